"""The leak finder itself: it must find six digits of a secret in anything a person's page or
words could put on the wire, and not cry wolf at the random numbers WebRTC writes."""

from __future__ import annotations

from tests.masking.leaks import find_leaks, machine_made

CARD = "6259111297155539"
# An offer and a candidate as Chromium writes them; the session id and the candidate's
# foundation and priority happen to hold "259111" once their digits run together.
SDP = "v=0\r\no=- 9124632591117706 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=rtpmap:111 opus/48000/2\r\n"
CANDIDATE = "candidate:900725911 1 udp 2122134271 127.0.0.1 43988 typ host generation 0"


def test_random_numbers_in_webrtc_signalling_are_not_a_leak():
    assert machine_made(SDP) and machine_made(CANDIDATE)
    assert find_leaks([SDP, CANDIDATE], {"card": CARD}) == []


def test_six_digits_anywhere_else_are_a_leak_in_any_separation():
    for text in ("卡号 6259 11** **** 5539", "ref 0.6259111", "6-2-5-9-1-1", "page #/transfer/625911"):
        assert find_leaks([text], {"card": CARD}) != [], text


def test_a_whole_secret_in_webrtc_signalling_is_still_a_leak():
    assert find_leaks([SDP + f"a=note:{CARD}\r\n"], {"card": CARD}) == [("card", CARD)]
