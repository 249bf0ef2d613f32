"""The encrypted_content carrier: what the gateway seals comes back intact, and nothing else does."""
import base64
import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from gemini_proxy.translate.responses.carrier import PREFIX, CarriedState, decode, encode

KEY = b"k" * 32
STATE = CarriedState(signatures={"call_1": "c2lnMQ==", "call_2": "c2lnMg=="}, gemini_ids={"call_1": "g1"},
                     text_signature="dHh0", family="gemini-3")


def test_a_sealed_state_round_trips_with_the_same_key():
    blob = encode(STATE, KEY)
    assert blob.startswith("gp1.")
    assert blob.count(".") == 2
    assert decode(blob, KEY) == STATE


def test_the_payload_is_the_documented_json():
    payload = blob_payload(encode(STATE, KEY))
    assert payload == {"v": 1, "fam": "gemini-3", "sig": {"call_1": "c2lnMQ==", "call_2": "c2lnMg=="},
                       "gid": {"call_1": "g1"}, "txt": "dHh0"}
    assert "txt" not in blob_payload(encode(CarriedState({"call_1": "s"}, family="gemini-3"), KEY))


def blob_payload(blob: str) -> dict:
    body = blob[len(PREFIX):].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_another_key_a_changed_payload_or_a_foreign_blob_decode_to_none():
    blob = encode(STATE, KEY)
    body, tag = blob[len(PREFIX):].split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"v": 1, "fam": "gemini-3", "sig": {"call_1": "evil"}}).encode())
    assert decode(blob, b"other key") is None
    assert decode(f"{PREFIX}{forged.decode().rstrip('=')}.{tag}", KEY) is None
    assert decode("gAAAAABnX1Xk2r_Fernet-token-from-OpenAI==", KEY) is None
    for junk in ("", "gp1.", "gp1..", "gp1.!!!.???", f"gp1.{body}", blob[:-3], blob + "x", "gp1.é.é"):
        assert decode(junk, KEY) is None, junk
    assert decode(None, KEY) is None


def test_a_well_tagged_payload_of_the_wrong_shape_is_refused():
    def sealed(document) -> str:
        raw = json.dumps(document).encode()
        tag = hmac.new(KEY, raw, hashlib.sha256).digest()
        b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
        return f"{PREFIX}{b64(raw)}.{b64(tag)}"

    assert decode(sealed({"v": 1, "sig": {"c": "s"}}), KEY) == CarriedState({"c": "s"})
    for document in ({"v": 2, "sig": {}}, [1], {"v": 1, "sig": {"c": 1}}, {"v": 1, "sig": []},
                     {"v": 1, "txt": 5}, {"v": 1, "fam": None}, {"v": 1, "gid": {"c": None}}):
        assert decode(sealed(document), KEY) is None, document


@given(st.text(max_size=300))
def test_decode_never_raises(blob):
    assert decode(blob, KEY) is None or blob.startswith(PREFIX)
    assert decode(PREFIX + blob, KEY) is None
