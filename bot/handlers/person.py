"""The questions about a person, declared once: the profile form and the membership form ask them."""

from __future__ import annotations

from bot.formatting import show_mobile
from bot.forms.spec import Field
from bot.i18n import N_
from bot.services.profile import clean_city, clean_name
from bot.services.validators import normalize_mobile, normalize_national_id

NAME_ERRORS = {
    "name_too_short": N_("That name is too short. Please type your first and last name."),
    "name_too_long": N_("That name is too long (at most 100 letters)."),
    "name_not_letters": N_("A name may contain only letters and spaces. Please type it again."),
}
CITY_ERRORS = {
    "city_too_short": N_("That city name is too short."),
    "city_too_long": N_("That city name is too long (at most 60 letters)."),
    "city_not_letters": N_("A city name may contain only letters and spaces."),
}
NATIONAL_ID_ERROR = N_(
    "That is not a valid national ID. It has 10 digits, like ۰۰۱۲۳۴۵۶۷۸. Please check it and type it again."
)
MOBILE_ERROR = N_(
    "That is not a valid Iranian mobile number. It looks like 0912 345 6789. Please type it again."
)

FULL_NAME = Field(
    "full_name",
    N_("Please type your full name (first and last name)."),
    N_("Full name"),
    clean=clean_name,
    suggest=True,
    errors=NAME_ERRORS,
)
NATIONAL_ID = Field(
    "national_id",
    N_("Please type your 10-digit national ID (کد ملی)."),
    N_("National ID"),
    clean=normalize_national_id,
    suggest=True,
    ltr=True,
    errors={"*": NATIONAL_ID_ERROR},
)
MOBILE = Field(
    "mobile",
    N_("Please share your mobile number with the button below, or type it (e.g. 0912 345 6789)."),
    N_("Mobile"),
    clean=normalize_mobile,
    contact=True,
    suggest=True,
    ltr=True,
    show=show_mobile,
    errors={"*": MOBILE_ERROR},
)
CITY = Field(
    "city",
    N_("Which city is your business in?"),
    N_("City"),
    clean=clean_city,
    suggest=True,
    errors=CITY_ERRORS,
)
PERSON_FIELDS = (FULL_NAME, NATIONAL_ID, MOBILE, CITY)
