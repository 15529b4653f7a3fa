import pytest

from contactcenter.phones import InvalidPhoneNumber, mask, to_e164, to_national


@pytest.mark.parametrize(
    "typed",
    [
        "9876543210",
        "98765 43210",
        "98765-43210",
        "09876543210",
        "+919876543210",
        "+91-98765-43210",
        "919876543210",
        " +91 (98765) 43210 ",
        "0091 98765 43210",  # India's international prefix
    ],
)
def test_indian_forms_normalise(typed):
    assert to_e164(typed) == "+919876543210"
    assert to_national(typed) == "9876543210"


def test_foreign_numbers_keep_their_country_code():
    assert to_e164("+1 415 555 0123") == "+14155550123"
    assert to_e164("001 415 555 0123") == "+14155550123"
    assert to_national("+1 415 555 0123") == "14155550123"


@pytest.mark.parametrize("bad", ["", "12345", "98765abcde", "+91123", "123456789012345678", "++919876543210"])
def test_bad_numbers_raise(bad):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(bad)


def test_mask_keeps_only_country_code_and_last_four():
    assert mask("+919876543210") == "+91******3210"
    assert mask("9876543210") == "******3210"


@pytest.mark.parametrize("typed", ["0000000000", "5555555555", "+91 55555 55555", "00000000000"])
def test_numbers_that_cannot_exist_are_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(typed)


def test_not_strict_a_possible_number_passes_as_the_network_sent_it():
    assert to_e164("+915555555555", strict=False) == "+915555555555"
    with pytest.raises(InvalidPhoneNumber, match="No such number in India"):
        to_e164("+915555555555")
