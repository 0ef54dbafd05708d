"""Phone masking (backend/core/phones.py): every way a number is written, and what is no number."""

from __future__ import annotations

import pytest

from backend.core.phones import masked_phone, masked_text

# Written in free text → what an outsider reads.
MASKED_IN_TEXT = [
    ("13877779999", "138****9999"),
    ("138-7777-9999", "138****9999"),
    ("138 7777 9999", "138****9999"),
    ("138.7777.9999", "138****9999"),
    ("138 - 7777 - 9999", "138****9999"),
    ("1387 777 9999", "138****9999"),
    ("138 77779999", "138****9999"),
    ("+8613877779999", "138****9999"),
    ("+86 138 7777 9999", "138****9999"),
    ("+86-138-7777-9999", "138****9999"),
    ("0086 13877779999", "138****9999"),
    ("8613877779999", "138****9999"),
    ("(+86)13877779999", "138****9999"),
    ("（＋８６）１３８７７７７９９９９", "138****9999"),
    ("１３８７７７７９９９９", "138****9999"),
    ("１３８－７７７７－９９９９", "138****9999"),
    ("１３８\u3000７７７７\u3000９９９９", "138****9999"),
    ("19912345678", "199****5678"),
    ("0473-3123456", "047****3456"),
    ("0473 3123456", "047****3456"),
    ("04733123456", "047****3456"),
    ("(0473)3123456", "047****3456"),
    ("(0473) 312 3456", "047****3456"),
    ("（０４７３）３１２３４５６", "047****3456"),
    ("010-88886666", "010****6666"),
    ("021 6888 6666", "021****6666"),
    ("0473-3123456-8001", "047****3456-8001"),
    ("0473-3123456转8001", "047****3456转8001"),
    ("010-88886666 ext. 12", "010****6666 ext. 12"),
    ("020-8123456", "****"),  # 10 digits: 7 shown would give it away
    # A landline dialled from abroad drops its trunk 0.
    ("+86 473 3123456", "047****3456"),
    ("+86-473-3123456", "047****3456"),
    ("+864733123456", "047****3456"),
    ("0086 10 88886666", "010****6666"),
    ("(+86) 21 6888 6666", "021****6666"),
    ("+86 (473) 3123456转8001", "047****3456转8001"),
]

# Numbers that are not phones, and must read as written.
NOT_PHONES = [
    "案件 #128734",
    "案件编号 20261207000123",
    "2026-12-07",
    "2026年12月07日 13:45",
    "106.8123456,39.6712345",
    "106.13812345678, 39.04733123456",  # a coordinate's decimals
    "150302",  # a district's 6-digit code
    "150302001001",  # a community's 12-digit code
    "15030200100101",  # a grid's code
    "150302199001011234",  # an ID card
    "ABCDE-FGHJK",  # a tracking code
    "23456-78923",  # a tracking code made of digits only
    "6222 0213 8123 4567 890",  # a bank card
    "12345678901",  # 11 digits, but no mobile starts with 12
    "0473-312345",  # a local number of 6 digits
    "3号楼前路灯不亮",
]


@pytest.mark.parametrize(("written", "shown"), MASKED_IN_TEXT)
def test_every_way_of_writing_a_number_is_masked_in_text(written, shown):
    assert masked_text(f"请联系{written}谢谢") == f"请联系{shown}谢谢"
    assert masked_text(written) == shown


@pytest.mark.parametrize("text", NOT_PHONES)
def test_what_is_no_phone_is_left_alone(text):
    assert masked_text(text) == text


def test_several_numbers_and_the_text_between_them_keep_their_places():
    text = "张三13812345678,李四：１３９ １２３４ ５６７８；办公室（0473）3123456。"
    assert masked_text(text) == "张三138****5678,李四：139****5678；办公室047****3456。"


def test_a_list_item_number_does_not_hide_the_phone_after_it():
    assert masked_text("1.13812345678 2.13912345678") == "1.138****5678 2.139****5678"


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "138****5678"),
        (" 138-1234-5678 ", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("0473-3123456", "047****3456"),
        ("0473-3123456-8001", "047****3456-8001"),
        ("0473312345", "****"),
        ("12345", "****"),
        ("", "****"),
        ("138123456789012", "138****9012"),  # no phone, yet never more than 7 digits shown
    ],
)
def test_a_phone_field_is_masked_to_one_shape(phone, shown):
    assert masked_phone(phone) == shown
