"""Day counts from config mapped to CloudWatch Logs' fixed retention choices."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from cashtrace_constructs.errors import DeploymentError, ErrorCode

_BY_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int, *, field: str = "retention_days") -> logs.RetentionDays:
    """The CloudWatch retention for exactly `days` days; other counts are refused, not rounded."""
    try:
        return _BY_DAYS[days]
    except KeyError:
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            f"CloudWatch Logs cannot keep logs for {days} days; choose one of {sorted(_BY_DAYS)}",
            field=field,
        ) from None
