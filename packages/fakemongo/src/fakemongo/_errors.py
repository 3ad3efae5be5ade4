"""Server errors as MongoDB 8.0 reports them: ``{ok: 0, errmsg, code, codeName}``.

Every failure a command handler detects is raised as a :class:`CommandError`
carrying MongoDB's own code; the dispatcher turns it into the reply document.
Codes and names follow the server's error code table (the "Error Codes" page of
the MongoDB manual); add a member here before using a new code, never a bare int.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = ["CommandError", "ErrorCode"]


class ErrorCode(IntEnum):
    """MongoDB server error codes; the member name is the reply's ``codeName``."""

    InternalError = 1
    CappedPositionLost = 136
    InterruptedAtShutdown = 11600
    Location51176 = 51176
    Location51175 = 51175
    Location51174 = 51174
    Location51173 = 51173
    BSONObjectTooLarge = 10334
    UnknownReplWriteConcern = 79
    InvalidIndexSpecificationOption = 197
    ClientMetadataCannotBeMutated = 186
    CannotIndexParallelArrays = 171
    ProtocolError = 17
    InvalidBSON = 22
    OperationFailed = 96
    MechanismUnavailable = 334
    RoleNotFound = 31
    Location10270 = 10270
    Location40537 = 40537
    Location10065 = 10065
    Location50687 = 50687
    Location50692 = 50692
    Location51003 = 51003
    Location51769 = 51769
    Location5626701 = 5626701
    Location5626702 = 5626702
    UnsupportedOpQueryCommand = 352
    InvalidLength = 33
    Location40571 = 40571
    Location40413 = 40413
    Location40431 = 40431
    Location40433 = 40433
    Location51758 = 51758
    Location51759 = 51759
    Location51760 = 51760
    Location51764 = 51764
    Location5255100 = 5255100
    Location5739101 = 5739101
    InvalidUUID = 207
    NoSuchSession = 206
    Location51024 = 51024
    Location5107201 = 5107201
    BadValue = 2
    NoSuchKey = 4
    FailedToParse = 9
    UserNotFound = 11
    Unauthorized = 13
    TypeMismatch = 14
    Overflow = 15
    AuthenticationFailed = 18
    IllegalOperation = 20
    NamespaceNotFound = 26
    IndexNotFound = 27
    PathNotViable = 28
    ConflictingUpdateOperators = 40
    CursorNotFound = 43
    NamespaceExists = 48
    MaxTimeMSExpired = 50
    DollarPrefixedFieldName = 52
    InvalidIdField = 53
    CannotBackfillArray = 34
    InvalidDBRef = 55
    NotExactValueField = 111
    NotSingleValueField = 54
    EmptyFieldName = 56
    CommandNotFound = 59
    ImmutableField = 66
    CannotCreateIndex = 67
    IndexAlreadyExists = 68
    InvalidOptions = 72
    InvalidNamespace = 73
    IndexOptionsConflict = 85
    IndexKeySpecsConflict = 86
    NamespaceNotSharded = 61
    NoMatchingDocument = 47
    UnknownError = 8
    CommandNotSupported = 115
    NotWritablePrimary = 10107
    NotPrimaryNoSecondaryOk = 13435
    # Replica set commands (replSetFreeze on a primary, a failed replSetStepUp).
    NotSecondary = 95
    NoReplicationEnabled = 76
    CommandFailed = 125
    DuplicateKey = 11000
    QueryFeatureNotAllowed = 224
    InvalidPipelineOperator = 168
    ConversionFailure = 241
    # Codes raised by a bare uassert(<number>) in the server; codeName "Location<N>".
    Location15974 = 15974
    Location15975 = 15975
    Location15983 = 15983
    Location15998 = 15998
    Location16020 = 16020
    Location16410 = 16410
    Location16412 = 16412
    Location16612 = 16612
    Location16869 = 16869
    Location16872 = 16872
    Location17080 = 17080
    Location17081 = 17081
    Location17082 = 17082
    Location17083 = 17083
    Location17276 = 17276
    Location17312 = 17312
    Location31138 = 31138
    Location31249 = 31249
    Location31250 = 31250
    Location31252 = 31252
    Location31253 = 31253
    Location31254 = 31254
    Location31255 = 31255
    Location31256 = 31256
    Location31257 = 31257
    Location31258 = 31258
    Location31259 = 31259
    Location31270 = 31270
    Location31271 = 31271
    Location31272 = 31272
    Location31273 = 31273
    Location31274 = 31274
    Location31275 = 31275
    Location31276 = 31276
    Location31277 = 31277
    Location31287 = 31287
    Location31308 = 31308
    Location31310 = 31310
    Location40081 = 40081
    Location40352 = 40352
    Location40414 = 40414
    Location40415 = 40415
    Location51050 = 51050
    Location51074 = 51074
    Location51075 = 51075
    Location51091 = 51091
    Location51108 = 51108
    Location51246 = 51246
    Location51247 = 51247
    Location51270 = 51270
    Location1257300 = 1257300
    # Aggregation pipeline stages and expression operators (fakemongo._aggregate & co.).
    Location13113 = 13113
    Location15947 = 15947
    Location15952 = 15952
    Location15955 = 15955
    Location15958 = 15958
    Location15959 = 15959
    Location15969 = 15969
    Location15973 = 15973
    Location15976 = 15976
    Location15981 = 15981
    Location16006 = 16006
    Location16007 = 16007
    Location16034 = 16034
    Location16035 = 16035
    Location16610 = 16610
    Location16611 = 16611
    Location16702 = 16702
    Location16866 = 16866
    Location16867 = 16867
    Location16868 = 16868
    Location16874 = 16874
    Location16875 = 16875
    Location16876 = 16876
    Location16877 = 16877
    Location16878 = 16878
    Location16879 = 16879
    Location16880 = 16880
    Location16882 = 16882
    Location16883 = 16883
    Location16990 = 16990
    Location17040 = 17040
    Location17041 = 17041
    Location17042 = 17042
    Location17043 = 17043
    Location17044 = 17044
    Location17045 = 17045
    Location17046 = 17046
    Location17047 = 17047
    Location17048 = 17048
    Location17049 = 17049
    Location17124 = 17124
    Location17385 = 17385
    Location17390 = 17390
    Location18533 = 18533
    Location18534 = 18534
    Location18535 = 18535
    Location18536 = 18536
    Location18537 = 18537
    Location18628 = 18628
    Location18629 = 18629
    Location28646 = 28646
    Location28647 = 28647
    Location28648 = 28648
    Location28650 = 28650
    Location28651 = 28651
    Location28656 = 28656
    Location28657 = 28657
    Location28664 = 28664
    Location28667 = 28667
    Location28680 = 28680
    Location28689 = 28689
    Location28690 = 28690
    Location28691 = 28691
    Location28714 = 28714
    Location28724 = 28724
    Location28725 = 28725
    Location28726 = 28726
    Location28727 = 28727
    Location28728 = 28728
    Location28729 = 28729
    Location28745 = 28745
    Location28746 = 28746
    Location28747 = 28747
    Location28748 = 28748
    Location28749 = 28749
    Location28756 = 28756
    Location28757 = 28757
    Location28758 = 28758
    Location28759 = 28759
    Location28761 = 28761
    Location28762 = 28762
    Location28763 = 28763
    Location28764 = 28764
    Location28765 = 28765
    Location28766 = 28766
    Location28808 = 28808
    Location28809 = 28809
    Location28810 = 28810
    Location28811 = 28811
    Location28812 = 28812
    Location28818 = 28818
    Location28822 = 28822
    Location31002 = 31002
    Location31022 = 31022
    Location31023 = 31023
    Location31024 = 31024
    Location31119 = 31119
    Location31120 = 31120
    Location31324 = 31324
    Location31441 = 31441
    Location34435 = 34435
    Location34443 = 34443
    Location34444 = 34444
    Location34445 = 34445
    Location34446 = 34446
    Location34447 = 34447
    Location34448 = 34448
    Location34449 = 34449
    Location34450 = 34450
    Location34451 = 34451
    Location34452 = 34452
    Location34453 = 34453
    Location34454 = 34454
    Location34455 = 34455
    Location34460 = 34460
    Location34461 = 34461
    Location34462 = 34462
    Location34463 = 34463
    Location34464 = 34464
    Location34465 = 34465
    Location34466 = 34466
    Location34467 = 34467
    Location34468 = 34468
    Location34471 = 34471
    Location34473 = 34473
    Location40060 = 40060
    Location40061 = 40061
    Location40062 = 40062
    Location40063 = 40063
    Location40064 = 40064
    Location40065 = 40065
    Location40066 = 40066
    Location40067 = 40067
    Location40068 = 40068
    Location40075 = 40075
    Location40076 = 40076
    Location40077 = 40077
    Location40078 = 40078
    Location40079 = 40079
    Location40080 = 40080
    Location40085 = 40085
    Location40086 = 40086
    Location40087 = 40087
    Location40090 = 40090
    Location40091 = 40091
    Location40092 = 40092
    Location40093 = 40093
    Location40094 = 40094
    Location40096 = 40096
    Location40097 = 40097
    Location40147 = 40147
    Location40148 = 40148
    Location40149 = 40149
    Location40156 = 40156
    Location40157 = 40157
    Location40158 = 40158
    Location40159 = 40159
    Location40160 = 40160
    Location40169 = 40169
    Location40170 = 40170
    Location40171 = 40171
    Location40228 = 40228
    Location40229 = 40229
    Location40234 = 40234
    Location40235 = 40235
    Location40236 = 40236
    Location40237 = 40237
    Location40238 = 40238
    Location40272 = 40272
    Location40323 = 40323
    Location40324 = 40324
    Location40386 = 40386
    Location40390 = 40390
    Location40392 = 40392
    Location40393 = 40393
    Location40394 = 40394
    Location40395 = 40395
    Location40396 = 40396
    Location40397 = 40397
    Location40398 = 40398
    Location40400 = 40400
    Location40485 = 40485
    Location40517 = 40517
    Location40533 = 40533
    Location40535 = 40535
    Location40536 = 40536
    Location40539 = 40539
    Location40540 = 40540
    Location40541 = 40541
    Location40542 = 40542
    Location40600 = 40600
    Location40601 = 40601
    Location40602 = 40602
    Location40684 = 40684
    Location50694 = 50694
    Location50695 = 50695
    Location50696 = 50696
    Location50699 = 50699
    Location50700 = 50700
    Location50752 = 50752
    Location51047 = 51047
    Location51080 = 51080
    Location51081 = 51081
    Location51082 = 51082
    Location51083 = 51083
    Location51103 = 51103
    Location51104 = 51104
    Location51105 = 51105
    Location51106 = 51106
    Location51107 = 51107
    Location51109 = 51109
    Location51111 = 51111
    Location51132 = 51132
    Location51134 = 51134
    Location51144 = 51144
    Location51178 = 51178
    Location51181 = 51181
    Location51182 = 51182
    Location51183 = 51183
    Location51186 = 51186
    Location51187 = 51187
    Location51191 = 51191
    Location51199 = 51199
    Location51272 = 51272
    Location51744 = 51744
    Location51745 = 51745
    Location51746 = 51746
    Location51747 = 51747
    Location51748 = 51748
    Location51749 = 51749
    Location51750 = 51750
    Location51751 = 51751
    Location327391 = 327391
    Location327392 = 327392
    Location2942500 = 2942500
    Location2942501 = 2942501
    Location2942502 = 2942502
    Location2942503 = 2942503
    Location2942504 = 2942504
    Location2942505 = 2942505
    Location3041700 = 3041700
    Location3041701 = 3041701
    Location3041702 = 3041702
    Location3041703 = 3041703
    Location3041704 = 3041704
    Location4161100 = 4161100
    Location4161101 = 4161101
    Location4161102 = 4161102
    Location4161103 = 4161103
    Location4161104 = 4161104
    Location4161105 = 4161105
    Location4161106 = 4161106
    Location4161107 = 4161107
    Location4161108 = 4161108
    Location4940400 = 4940400
    Location5107200 = 5107200
    Location5166301 = 5166301
    Location5166302 = 5166302
    Location5166303 = 5166303
    Location5166304 = 5166304
    Location5166305 = 5166305
    Location5166307 = 5166307
    Location5166400 = 5166400
    Location5166401 = 5166401
    Location5166402 = 5166402
    Location5166403 = 5166403
    Location5166405 = 5166405
    Location5166406 = 5166406
    Location5439013 = 5439013
    Location5439015 = 5439015
    Location5439016 = 5439016
    Location5654600 = 5654600
    Location5654601 = 5654601
    Location5654602 = 5654602
    Location5786800 = 5786800
    Location5786801 = 5786801
    Location5858203 = 5858203
    # Codes drivers' tests inject through the failCommand fail point, the
    # retryable-write codes (the RetriableError category of the server's
    # error_codes.yml) and those of sessions and fail points.
    HostUnreachable = 6
    HostNotFound = 7
    LockTimeout = 24
    WriteConcernFailed = 64
    NetworkTimeout = 89
    CallbackCanceled = 90
    ShutdownInProgress = 91
    UnsatisfiableWriteConcern = 100
    WriteConflict = 112
    FailedToSatisfyReadPreference = 133
    ReadConcernMajorityNotAvailableYet = 134
    QueryPlanKilled = 175
    PrimarySteppedDown = 189
    IncompleteTransactionHistory = 217
    TransactionTooOld = 225
    RetryChangeStream = 234
    CursorKilled = 237
    NoSuchTransaction = 251
    ExceededTimeLimit = 262
    OperationNotSupportedInTransaction = 263
    FailPointSetFailed = 266
    ClientDisconnect = 279
    ChangeStreamFatalError = 280
    ChangeStreamHistoryLost = 286
    InternalTransactionNotSupported = 358
    ReauthenticationRequired = 391
    SocketException = 9001
    Interrupted = 11601
    InterruptedDueToReplStateChange = 11602
    StaleConfig = 13388
    NotPrimaryOrSecondary = 13436
    NotARetryableWriteCommand = 50768
    Location50889 = 50889
    BackupCursorOpenConflictWithCheckpoint = 50915


class CommandError(Exception):
    """A command failed the way MongoDB would fail it.

    ``code`` is the numeric error code, ``code_name`` its name (defaults to the
    :class:`ErrorCode` member's name), ``errmsg`` the message text.
    """

    def __init__(
        self,
        code: ErrorCode | int,
        errmsg: str,
        *,
        code_name: str | None = None,
        error_labels: tuple[str, ...] = (),
    ) -> None:
        super().__init__(errmsg)
        self.code = int(code)
        if code_name is None:
            code_name = code.name if isinstance(code, ErrorCode) else ErrorCode(code).name
        self.code_name = code_name
        self.errmsg = errmsg
        self.error_labels = error_labels

    def to_document(self) -> dict[str, Any]:
        """The reply document: ``{ok: 0.0, errmsg, code, codeName[, errorLabels]}``."""
        doc: dict[str, Any] = {
            "ok": 0.0,
            "errmsg": self.errmsg,
            "code": self.code,
            "codeName": self.code_name,
        }
        if self.error_labels:
            doc["errorLabels"] = list(self.error_labels)
        return doc

    def __repr__(self) -> str:
        return (
            f"CommandError(code={self.code}, codeName={self.code_name!r}, errmsg={self.errmsg!r})"
        )
