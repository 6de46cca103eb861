"""Password hashing with argon2id (argon2-cffi's tuned defaults), and the rule a new password meets.

The rule (`password_problems`, `check_password`) refuses, with a reason in Vietnamese and English:
a password shorter than MIN_LENGTH or longer than MAX_LENGTH; the account's e-mail, the e-mail's
local part or the user's name (compared without case, diacritics, spaces or punctuation, so
"Nguyễn Văn A" refuses "nguyenvana"); one of the 30,000 most common passwords; and anything else
zxcvbn scores below MIN_SCORE (keyboard walks, repeats, dates, words plus a year, variations of the
e-mail or name). zxcvbn is the estimator Dropbox published and maintains; its Python port ships
its ranked list of common passwords (from leaked password dumps) with it, so the list needs no
upkeep here and works offline. It is loaded on the first check only (it takes ~0.1 s).

Every place that sets a password goes through `check_password`: `directory.create_user` (the CLI
`ocop user create`, the administration page, the demo) and `services.auth.change_password`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import InvalidData
from .folding import fold
from .i18n import Text, join

_hasher = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 200
# zxcvbn's score: 0-1 fall within about a million guesses (an online attack gets through them)
MIN_SCORE = 2
# zxcvbn's matching grows quickly with the length; past this many characters the rest adds strength only
_SCORED_PREFIX = 64


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def _plain(text: str) -> str:
    """Lower case, no diacritics, letters and digits only: how passwords are compared to names."""
    return re.sub(r"[\W_]+", "", fold(text))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (lower case)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, *, email: str = "", name: str = "") -> list[Text]:
    """Every reason the rule refuses `password` for the account (`email`, `name`); empty if none."""
    if len(password) < MIN_LENGTH:
        return [
            Text(f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự", f"The password needs at least {MIN_LENGTH} characters")
        ]
    if len(password) > MAX_LENGTH:
        return [
            Text(f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự", f"The password may have at most {MAX_LENGTH} characters")
        ]
    plain = _plain(password)
    email = (email or "").strip().lower()
    local = email.partition("@")[0]
    if plain and plain in {_plain(email), _plain(local)}:
        return [Text("Mật khẩu không được là địa chỉ e-mail", "The password must not be the e-mail address")]
    if plain and name and plain == _plain(name):
        return [Text("Mật khẩu không được là tên người dùng", "The password must not be the user's name")]
    if password.lower() in common_passwords() or plain in common_passwords():
        return [
            Text(
                "Mật khẩu này nằm trong danh sách mật khẩu phổ biến nhất; hãy chọn mật khẩu khác",
                "This password is among the most common passwords; choose another",
            )
        ]
    from zxcvbn import zxcvbn

    hints = [
        h
        for h in (
            email,
            local,
            *re.split(r"[\W_]+", local),
            name,
            *(name or "").split(),
            fold(name),
            *fold(name).split(),
        )
        if h
    ]
    if zxcvbn(password[:_SCORED_PREFIX], user_inputs=hints)["score"] < MIN_SCORE:
        return [
            Text(
                "Mật khẩu quá dễ đoán (dãy phím, lặp lại, ngày tháng, hoặc giống e-mail hay tên); "
                "hãy dùng một cụm vài từ không liên quan",
                "The password is too easy to guess (a keyboard pattern, repetition, a date, or close to "
                "the e-mail or name); use a phrase of a few unrelated words",
            )
        ]
    return []


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """InvalidData with every reason if the rule refuses `password`."""
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise InvalidData(join(problems), field="password")
