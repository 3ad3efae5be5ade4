"""TLS for connections: an :class:`ssl.SSLContext` built from the options.

Verification is on by default: the server's certificate must chain to the
system's CAs (or ``tlsCAFile``'s) and name the host connected to.
``tlsAllowInvalidHostnames`` turns off only the name check,
``tlsAllowInvalidCertificates`` turns off both, ``tlsInsecure`` means both.
``tlsCertificateKeyFile`` (with its password) is the client's certificate.

The stdlib's TLS does no OCSP or CRL checking unless configured, so
``tlsDisableOCSPEndpointCheck`` and ``tlsDisableCertificateRevocationCheck``
ask for what is already the case.
"""

from __future__ import annotations

import ssl

from ._errors import InvalidOptionValueError
from ._options import ConnectionOptions

__all__ = ["ssl_context_from_options"]


def ssl_context_from_options(options: ConnectionOptions) -> ssl.SSLContext | None:
    """The client TLS context ``options`` ask for, or ``None`` without TLS.

    Reads the CA and certificate files now (once per client, not per
    connection). Raises :class:`~mongotor.pool.InvalidOptionValueError` naming
    the option whose file cannot be read or used (the key file's password is
    never shown).
    """
    if not options.tls:
        return None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=options.tls_ca_file)
    except OSError as error:  # ssl.SSLError is an OSError too
        raise InvalidOptionValueError(
            f"tlsCAFile cannot be used: {_reason(error)}",
            option="tlsCAFile",
            value=options.tls_ca_file,
            expected="a readable file of PEM certificates",
        ) from None
    insecure = bool(options.tls_insecure)
    allow_invalid_certificates = insecure or bool(options.tls_allow_invalid_certificates)
    if allow_invalid_certificates or options.tls_allow_invalid_hostnames:
        context.check_hostname = False
    if allow_invalid_certificates:
        context.verify_mode = ssl.CERT_NONE
    if options.tls_certificate_key_file is not None:
        try:
            context.load_cert_chain(
                options.tls_certificate_key_file, password=options.tls_certificate_key_file_password
            )
        except OSError as error:
            raise InvalidOptionValueError(
                f"tlsCertificateKeyFile cannot be used: {_reason(error)}",
                option="tlsCertificateKeyFile",
                value=options.tls_certificate_key_file,
                expected="a readable PEM file holding the client certificate and its key "
                "(encrypted keys need tlsCertificateKeyFilePassword)",
            ) from None
    return context


def _reason(error: OSError) -> str:
    # An OSError's str() holds the file name; its strerror or SSL reason does not.
    return getattr(error, "reason", None) or error.strerror or type(error).__name__
