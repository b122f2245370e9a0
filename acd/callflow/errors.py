"""What can go wrong with a call that its code must tell apart."""


class CallerHungUp(Exception):  # noqa: N818 - the name says what happened
    """The caller's channel is gone: raised by a Telephony order on a dead channel."""
