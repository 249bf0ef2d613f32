"""A CreateResponse -> the Gemini request: every item type, the pairing rules and their 400s,
thought signatures from the carrier, the store and the dummy, tools, and settings."""
import base64
import json

import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.media.data import MediaLimits
from gemini_proxy.media.parts import media_of_items
from gemini_proxy.schemas import load
from gemini_proxy.schemas.responses import CreateResponseSchema
from gemini_proxy.translate.chat import RequestDefaults
from gemini_proxy.translate.families import FAMILIES
from gemini_proxy.translate.messages import DUMMY_SIGNATURE, function_response
from gemini_proxy.translate.responses.carrier import CarriedState, encode
from gemini_proxy.translate.responses.request import call_ids, gemini_request, input_items, item_references
from tests.support import RECORDINGS, openai_validator
from tests.support.image_server import serving_image

SCHEMA = CreateResponseSchema(max_items=100)
KEY = b"k" * 32
G3 = "gemini-3-flash-preview"
G25 = "gemini-2.5-flash"
SIG1, SIG2 = base64.b64encode(b"sig-one").decode(), base64.b64encode(b"sig-two").decode()
WEATHER = {"type": "function", "name": "get_weather", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}}
USER = {"role": "user", "content": "Weather in Paris and Rome?"}
USER_CONTENT = {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]}


def translate(model=G3, defaults=None, **fields):
    defaults = defaults or RequestDefaults()
    fields.setdefault("input", "hi")
    lookups = {name: fields.pop(name) for name in ("history", "referenced", "signatures", "media")
               if name in fields}
    body = load(SCHEMA, {"model": model, **fields})
    return gemini_request(body, model, defaults, carrier_key=KEY, **lookups)


def contents(items, model=G3, **lookups):
    return translate(model, input=items, **lookups).contents


def refused(**kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        translate(**kwargs)
    assert caught.value.status == 400
    return caught.value


def call(call_id, city, **extra):
    return {"type": "function_call", "call_id": call_id, "name": "get_weather",
            "arguments": f'{{"city": "{city}"}}', **extra}


def output(call_id, text):
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def blob(signatures=None, gemini_ids=None, text=None, family="gemini-3", key=KEY):
    return encode(CarriedState(signatures or {}, gemini_ids or {}, text, family), key)


def reasoning(encrypted=None):
    return {"type": "reasoning", "summary": [], "encrypted_content": encrypted}


def gemini_call(city, signature=None, **extra):
    part = {"function_call": {"name": "get_weather", "args": {"city": city}, **extra}}
    if signature is not None:
        part["thought_signature"] = signature
    return part


def answer(result, **extra):
    part = function_response("get_weather", result, 128)
    part["function_response"].update(extra)
    return part


def test_a_string_input_and_instructions():
    request = translate(input="Say hello.", instructions="Be brief.")
    assert request.contents == [{"role": "user", "parts": [{"text": "Say hello."}]}]
    assert request.config == {"system_instruction": {"parts": [{"text": "Be brief."}]}}
    assert request.dropped == ()


def test_system_and_developer_messages_follow_the_instructions_in_order():
    request = translate(instructions="Rule 0.", input=[
        {"role": "developer", "content": "Rule 1."}, USER, {"role": "assistant", "content": "Which unit?"},
        {"role": "system", "content": [{"type": "input_text", "text": "Rule 2."}]},
        {"role": "user", "content": [{"type": "input_text", "text": "Celsius"}, {"type": "input_text", "text": ""}]}])
    assert request.config["system_instruction"] == {"parts": [{"text": "Rule 0."}, {"text": "Rule 1."},
                                                              {"text": "Rule 2."}]}
    assert request.contents == [USER_CONTENT, {"role": "model", "parts": [{"text": "Which unit?"}]},
                                {"role": "user", "parts": [{"text": "Celsius"}]}]


def test_assistant_output_text_and_refusals_are_model_text_and_empty_messages_vanish():
    assert contents([
        {"role": "user", "content": "a"},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "b", "annotations": [], "logprobs": []},
                     {"type": "refusal", "refusal": "c"}]},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": ""},
        {"role": "user", "content": "d"}]) == [
        {"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"text": "b"}, {"text": "c"}]},
        {"role": "user", "parts": [{"text": "d"}]}]


def test_a_function_call_round_trip_as_the_conformance_checker_sends_it():
    # responses.tools_roundtrip: store false, the first response's output fed back as it came.
    first_output = [reasoning(blob({"call_abc": SIG1}, {"call_abc": "g-1"})),
                    {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_abc",
                     "name": "get_weather", "arguments": '{"city": "Paris"}'}]
    request = translate(store=False, tools=[WEATHER], input=[
        USER, *first_output, output("call_abc", '{"temperature_c": 21, "sky": "sunny"}')])
    assert request.contents == [
        USER_CONTENT,
        {"role": "model", "parts": [gemini_call("Paris", b"sig-one", id="g-1")]},
        {"role": "user", "parts": [answer('{"temperature_c": 21, "sky": "sunny"}', id="g-1")]}]
    assert request.contents[2]["parts"][0]["function_response"]["response"] == {"temperature_c": 21, "sky": "sunny"}


def test_a_recorded_gemini_tool_turn_is_what_its_items_become():
    # The follow-up turn a real client sent Gemini (gemini-2.5-flash) after a call: the same
    # conversation as Responses items gives the same contents (the recording says role "tool").
    recorded = json.loads((RECORDINGS / "gemini/streaming_function_calling/request_1.json").read_text())["contents"]
    question, called, answered = recorded
    items = [{"role": "user", "content": question["parts"][0]["text"]},
             {"type": "function_call", "call_id": "call_1", "name": called["parts"][0]["function_call"]["name"],
              "arguments": json.dumps(called["parts"][0]["function_call"]["args"], ensure_ascii=False)},
             output("call_1", json.dumps(answered["parts"][0]["function_response"]["response"], ensure_ascii=False))]
    assert contents(items, model=G25) == [question, called, {**answered, "role": "user"}]


def test_tool_output_is_wrapped_as_chat_wraps_it():
    parts = contents([USER, call("c1", "Paris"), output("c1", "sunny"), call("c2", "Rome", ), output("c2", "[1, 2]")],
                     model=G25)[2]["parts"]
    assert [part["function_response"]["response"] for part in parts] == [{"result": "sunny"}, {"result": [1, 2]}]


@pytest.mark.parametrize("arguments, args", [("", {}), ("{}", {}), ('{"a": [1]}', {"a": [1]})])
def test_call_arguments_become_args(arguments, args):
    items = [USER, {**call("c", "x"), "arguments": arguments}, output("c", "ok")]
    assert contents(items, model=G25)[1]["parts"][0]["function_call"]["args"] == args


@pytest.mark.parametrize("arguments", ["[1]", "{not json", '"text"'])
def test_call_arguments_that_are_not_a_json_object_are_a_400(arguments):
    error = refused(input=[USER, {**call("c", "x"), "arguments": arguments}, output("c", "ok")])
    assert (error.param, error.code) == ("input[1].arguments", None)


def test_interleaved_parallel_calls_are_regrouped_into_one_step():
    # Codex records each call beside its output: [rs, fc1, out1, fc2, out2]. Gemini signed only
    # the first call of the step, so fc2 (no signature) belongs with fc1.
    items = [USER, reasoning(blob({"c1": SIG1})), call("c1", "Paris"), output("c1", "21"),
             call("c2", "Rome"), output("c2", "25")]
    assert contents(items) == [
        USER_CONTENT,
        {"role": "model", "parts": [gemini_call("Paris", b"sig-one"), gemini_call("Rome")]},
        {"role": "user", "parts": [answer("21"), answer("25")]}]


def test_outputs_follow_the_order_of_their_calls():
    items = [USER, call("c1", "Paris"), call("c2", "Rome"), output("c2", "25"), output("c1", "21")]
    assert contents(items, model=G25)[2] == {"role": "user", "parts": [answer("21"), answer("25")]}


def test_sequential_steps_stay_apart_when_a_signature_or_reasoning_says_so():
    signed = [USER, call("c1", "Paris"), output("c1", "21"), call("c2", "Rome"), output("c2", "25")]
    assert contents(signed, signatures={"c1": SIG1, "c2": SIG2}) == [
        USER_CONTENT, {"role": "model", "parts": [gemini_call("Paris", b"sig-one")]},
        {"role": "user", "parts": [answer("21")]}, {"role": "model", "parts": [gemini_call("Rome", b"sig-two")]},
        {"role": "user", "parts": [answer("25")]}]
    stepped = [USER, call("c1", "Paris"), output("c1", "21"), {"role": "assistant", "content": "Now Rome."},
               call("c2", "Rome"), output("c2", "25")]
    assert [c["parts"] for c in contents(stepped, model=G25)][2:4] == [
        [answer("21")], [{"text": "Now Rome."}, gemini_call("Rome")]]
    reasoned = [USER, call("c1", "Paris"), output("c1", "21"), reasoning(), call("c2", "Rome"), output("c2", "25")]
    assert len(contents(reasoned, model=G25)) == 5


def test_signature_order_carrier_then_store_then_the_dummy_on_the_first_call():
    items = [USER, reasoning(blob({"c1": SIG1})), call("c1", "Paris"), call("c2", "Rome"),
             output("c1", "21"), output("c2", "25"), {"role": "user", "content": "And Oslo?"},
             call("c3", "Oslo"), output("c3", "3")]
    model_turns = [c["parts"] for c in contents(items, signatures={"c1": SIG2, "c3": SIG2}) if c["role"] == "model"]
    assert model_turns == [[gemini_call("Paris", b"sig-one"), gemini_call("Rome")], [gemini_call("Oslo", b"sig-two")]]
    lost = [c["parts"] for c in contents(items[:1] + items[2:]) if c["role"] == "model"]
    assert lost == [[gemini_call("Paris", DUMMY_SIGNATURE), gemini_call("Rome")],
                    [gemini_call("Oslo", DUMMY_SIGNATURE)]]


def test_models_that_need_no_signatures_get_no_dummy():
    parts = contents([USER, call("c1", "Paris"), output("c1", "21")], model=G25)[1]["parts"]
    assert parts == [gemini_call("Paris")]


def test_foreign_forged_or_other_family_blobs_are_ignored():
    for encrypted in ("gAAAAABoFernetTokenFromOpenAI==", blob({"c1": SIG1}, key=b"another key"),
                      blob({"c1": SIG1}, family="gemini-3-pro")):
        parts = contents([USER, reasoning(encrypted), call("c1", "Paris"), output("c1", "21")])[1]["parts"]
        assert parts == [gemini_call("Paris", DUMMY_SIGNATURE)]


def test_the_carried_text_signature_goes_on_the_last_text_part_of_its_turn():
    items = [USER, {"role": "assistant", "content": [{"type": "output_text", "text": "Hello"},
                                                     {"type": "output_text", "text": " there"}]},
             reasoning(blob(text=SIG1)), {"role": "user", "content": "Hi"}]
    assert contents(items)[1] == {"role": "model", "parts": [
        {"text": "Hello"}, {"text": " there", "thought_signature": b"sig-one"}]}


@pytest.mark.parametrize("items, message", [
    ([USER, output("c9", "x")], "No tool call found for function call output with call_id c9."),
    ([USER, output("c1", "x"), call("c1", "Paris")], "No tool call found for function call output with call_id c1."),
    ([USER, call("c1", "Paris"), {"role": "user", "content": "never mind"}],
     "No tool output found for function call c1."),
    ([USER, call("c1", "Paris"), call("c2", "Rome"), output("c1", "x")], "No tool output found for function call c2."),
    ([USER, call("c1", "Paris"), output("c1", "x"), output("c1", "y")], "The tool call c1 has more than one output."),
    ([{"type": "item_reference", "id": "msg_gone"}], "Item with id 'msg_gone' not found."),
    ([{**USER, "id": "msg_1"}, {**USER, "id": "msg_1"}],
     "Duplicate item found with id msg_1. Remove duplicate items from your input and try again."),
    ([{"role": "system", "content": "rules only"}], "input must contain at least one user or assistant item with "
                                                   "content."),
])
def test_pairing_and_reference_errors_name_the_input(items, message):
    error = refused(input=items)
    assert (error.message, error.param, error.code) == (message, "input", None)


def test_item_references_are_replaced_by_the_stored_items():
    stored = {"msg_1": {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "Noted.", "annotations": [], "logprobs": []}]},
              "fc_1": {"id": "fc_1", **call("c1", "Paris"), "status": "completed"},
              "rs_1": {"id": "rs_1", "type": "reasoning", "summary": []}}
    items = [USER, {"type": "item_reference", "id": "msg_1"}, {"id": "rs_1"},
             {"type": "item_reference", "id": "fc_1"}, output("c1", "21")]
    assert item_references(load(SCHEMA, {"model": G3, "input": items})["input"]) == ["msg_1", "rs_1", "fc_1"]
    assert contents(items, model=G25, referenced=stored) == [
        USER_CONTENT, {"role": "model", "parts": [{"text": "Noted."}, gemini_call("Paris")]},
        {"role": "user", "parts": [answer("21")]}]


def test_history_comes_first_and_its_ids_may_not_be_sent_again():
    history = [{"id": "msg_1", "type": "message", "role": "user", "status": "completed",
                "content": [{"type": "input_text", "text": "My colour is blue."}]},
               {"id": "msg_2", "type": "message", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "Noted.", "annotations": [], "logprobs": []}]}]
    request = translate(instructions="Now.", input="What is my colour?", history=history)
    assert request.contents == [{"role": "user", "parts": [{"text": "My colour is blue."}]},
                                {"role": "model", "parts": [{"text": "Noted."}]},
                                {"role": "user", "parts": [{"text": "What is my colour?"}]}]
    assert request.config["system_instruction"] == {"parts": [{"text": "Now."}]}
    error = refused(input=[{**USER, "id": "msg_2"}], history=history)
    assert (error.param, error.message.split(".")[0]) == ("input", "Duplicate item found with id msg_2")


def test_custom_local_shell_and_namespaced_calls():
    items = [USER,
             {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch"},
             {"type": "local_shell_call", "id": "lsh_1", "call_id": "c2", "status": "completed",
              "action": {"type": "exec", "command": ["ls", "-a"], "working_directory": "/tmp", "timeout_ms": 500,
                         "env": {}, "user": None}},
             {"type": "function_call", "call_id": "c3", "name": "read", "namespace": "files", "arguments": "{}"},
             {"type": "local_shell_call", "call_id": "c4", "action": {"command": ["pwd"]}},
             {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done!"},
             {"type": "local_shell_call_output", "id": "c2", "output": '{"output": "a b"}'},
             {"type": "function_call_output", "call_id": "c3", "output": [{"type": "input_text", "text": "x"},
                                                                           {"type": "input_text", "text": "y"}]},
             {"type": "function_call_output", "call_id": "c4", "output": "/tmp"},
             {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}}]
    assert contents(items, model=G25) == [USER_CONTENT, {"role": "model", "parts": [
        {"function_call": {"name": "apply_patch", "args": {"input": "*** Begin Patch"}}},
        {"function_call": {"name": "local_shell", "args": {"command": ["ls", "-a"], "workdir": "/tmp",
                                                           "timeout_ms": 500}}},
        {"function_call": {"name": "files__read", "args": {}}},
        {"function_call": {"name": "local_shell", "args": {"command": ["pwd"]}}}]}, {"role": "user", "parts": [
            {"function_response": {"name": "apply_patch", "response": {"result": "Done!"}}},
            {"function_response": {"name": "local_shell", "response": {"output": "a b"}}},
            {"function_response": {"name": "files__read", "response": {"result": "xy"}}},
            {"function_response": {"name": "local_shell", "response": {"result": "/tmp"}}}]}]


def test_media_parts_are_inline_data_by_param():
    png, pdf = ("image/png", b"\x89PNG"), ("application/pdf", b"%PDF")
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Compare"},
                                          {"type": "input_image", "image_url": "https://example.com/a.png"}]},
             call("c1", "Paris"),
             {"type": "function_call_output", "call_id": "c1",
              "output": [{"type": "input_text", "text": "chart:"},
                         {"type": "input_file", "file_data": "JVBERg==", "filename": "c.pdf"}]}]
    media = {"input[0].content[1]": png, "input[2].output[1]": pdf}
    image, document = {"inline_data": {"mime_type": "image/png", "data": b"\x89PNG"}}, {
        "inline_data": {"mime_type": "application/pdf", "data": b"%PDF"}}
    assert contents(items, model=G25, media=media) == [
        {"role": "user", "parts": [{"text": "Compare"}, image]},
        {"role": "model", "parts": [gemini_call("Paris")]},
        {"role": "user", "parts": [answer("chart:"), document]}]
    error = refused(input=items, media={"input[0].content[1]": png})
    assert error.param == "input[2].output[1]"


TOOLS = [WEATHER,
         {"type": "custom", "name": "apply_patch", "description": "Edit files.",
          "format": {"type": "grammar", "syntax": "lark", "definition": "start: patch"}},
         {"type": "local_shell"},
         {"type": "namespace", "name": "files", "description": "File tools.", "tools": [
             {"type": "function", "name": "read", "parameters": {"type": "object", "title": "Read", "$comment": "x"}},
             {"type": "custom", "name": "write"}]},
         {"type": "web_search", "search_context_size": "low"}]


def test_tools_become_function_declarations():
    request = translate(tools=TOOLS)
    declarations = request.config["tools"][0]["function_declarations"]
    assert [d["name"] for d in declarations] == ["get_weather", "apply_patch", "local_shell", "files__read",
                                                 "files__write"]
    assert declarations[0] == {"name": "get_weather", "parameters_json_schema": WEATHER["parameters"]}
    assert declarations[1]["parameters_json_schema"] == {
        "type": "object", "required": ["input"],
        "properties": {"input": {"type": "string", "description": declarations[1]["parameters_json_schema"][
            "properties"]["input"]["description"]}}}
    assert declarations[1]["description"].startswith("Edit files.\n\n")
    assert "```lark\nstart: patch\n```" in declarations[1]["description"]
    assert declarations[2]["parameters_json_schema"]["required"] == ["command"]
    assert declarations[3] == {"name": "files__read", "parameters_json_schema": {"type": "object", "title": "Read"}}
    assert "description" not in declarations[4]
    assert len(request.config["tools"]) == 1
    assert request.dropped == ("tools[3].tools[0].parameters.$comment",
                               "tools[4] (web_search: not combined with function tools on Gemini)")


def test_web_search_alone_is_google_search():
    for kind in ("web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"):
        config = translate(tools=[{"type": kind, "user_location": {"type": "approximate"}}]).config
        assert config == {"tools": [{"google_search": {}}]}


@pytest.mark.parametrize("choice, expected", [
    ("auto", None), (None, None), ({"type": "web_search_preview"}, None),
    ("none", {"mode": "NONE"}), ("required", {"mode": "ANY"}),
    ({"type": "function", "name": "get_weather"}, {"mode": "ANY", "allowed_function_names": ["get_weather"]}),
    ({"type": "custom", "name": "apply_patch"}, {"mode": "ANY", "allowed_function_names": ["apply_patch"]}),
    ({"type": "function", "name": "read"}, {"mode": "ANY", "allowed_function_names": ["files__read"]}),
    ({"type": "function", "name": "read", "namespace": "files"},
     {"mode": "ANY", "allowed_function_names": ["files__read"]}),
    ({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"},
                                                            {"type": "web_search"}, {"type": "local_shell"}]},
     {"mode": "ANY", "allowed_function_names": ["get_weather", "local_shell"]}),
    ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "web_search"}]}, {"mode": "AUTO"}),
])
def test_tool_choice(choice, expected):
    config = translate(tools=TOOLS, tool_choice=choice).config
    assert config.get("tool_config") == (None if expected is None else {"function_calling_config": expected})


@pytest.mark.parametrize("tools, choice, param", [
    (TOOLS, {"type": "function", "name": "teleport"}, "tool_choice"),
    (TOOLS, {"type": "function"}, "tool_choice"),
    (TOOLS, {"type": "file_search"}, "tool_choice"),
    (TOOLS, {"type": "allowed_tools", "mode": "sometimes", "tools": []}, "tool_choice"),
    (TOOLS, {"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]}, "tool_choice"),
    ([{"type": "web_search"}], "required", "tool_choice"),
    (None, {"type": "function", "name": "get_weather"}, "tool_choice"),
    ([WEATHER, {**WEATHER, "description": "again"}], None, "tools[1].name"),
    ([{"type": "namespace", "name": "n" * 40, "tools": [{**WEATHER, "name": "f" * 30}]}], None,
     "tools[0].tools[0].name"),
])
def test_tools_and_choices_that_cannot_work_are_a_400(tools, choice, param):
    error = refused(tools=tools, tool_choice=choice)
    assert (error.param, error.code) == (param, None), error.message


@pytest.mark.parametrize("text, config, dropped", [
    (None, {}, ()), ({"format": {"type": "text"}}, {}, ()),
    ({"format": {"type": "json_object"}, "verbosity": "low"}, {"response_mime_type": "application/json"}, ()),
    ({"format": {"type": "json_schema", "name": "city", "strict": True,
                 "schema": {"type": "object", "properties": {"n": {"const": 1, "pattern": "x"}}}}},
     {"response_mime_type": "application/json", "response_json_schema": {
         "type": "object", "properties": {"n": {"enum": [1]}}}},
     ("text.format.schema.properties.n.const (as enum)", "text.format.schema.properties.n.pattern")),
])
def test_text_format(text, config, dropped):
    request = translate(text=text)
    assert (request.config, request.dropped) == (config, dropped)


@pytest.mark.parametrize("prefix, family", FAMILIES)
@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high", "xhigh", "max"])
def test_reasoning_effort_goes_through_the_families_table(prefix, family, effort):
    value = family.efforts[{"xhigh": "high", "max": "high"}.get(effort, effort)]
    key = "thinking_level" if isinstance(value, str) else "thinking_budget"
    config = translate(model=f"{prefix}-test", reasoning={"effort": effort}).config
    assert config == {"thinking_config": {key: value}}
    summarised = translate(model=f"{prefix}-test", reasoning={"effort": effort, "summary": "auto"}).config
    assert summarised["thinking_config"].get("include_thoughts") is (True if effort != "none" else None)


def test_reasoning_on_a_model_that_cannot_think_is_taken_and_ignored():
    assert translate(model="gemma-3-27b-it", reasoning={"effort": "high", "summary": "auto"}).config == {}


def test_summary_alone_asks_for_thoughts_and_google_thinking_config_wins():
    assert translate(reasoning={"summary": "concise"}).config == {"thinking_config": {"include_thoughts": True}}
    passed = {"google": {"thinking_config": {"thinkingBudget": 64, "includeThoughts": True}}}
    assert translate(extra_body=passed).config == {"thinking_config": {"thinking_budget": 64, "include_thoughts": True}}
    error = refused(extra_body=passed, reasoning={"effort": "low"})
    assert error.param == "reasoning.effort"


def test_sampling_limits_and_server_defaults():
    defaults = RequestDefaults(temperature=0.3, top_p=0.8, top_k=20, max_tokens=99,
                               safety_settings=({"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"},))
    assert translate(defaults=defaults).config == {
        "temperature": 0.3, "top_p": 0.8, "top_k": 20, "max_output_tokens": 99,
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"}]}
    assert translate(defaults=defaults, temperature=0, top_p=1, max_output_tokens=16).config == {
        "temperature": 0, "top_p": 1, "top_k": 20, "max_output_tokens": 16,
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"}]}


def new_id(prefix):
    return f"{prefix}_0123"


def test_input_items_list_the_input_with_ids_as_item_resources():
    items = [{"role": "developer", "content": "Use tools."},
             {"id": "msg_mine", "role": "user", "content": [
                 {"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": "https://x/y.png"},
                 {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERg==", "filename": "a.pdf"}]},
             {"type": "reasoning", "summary": None, "encrypted_content": "gp1.x.y"},
             {"role": "assistant", "content": [{"type": "input_text", "text": "ok"}, {"type": "refusal",
                                                                                      "refusal": "no"}]},
             call("call_1", "Paris"), {**output("call_1", "21"), "name": "get_weather"},
             {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"},
             {"type": "custom_tool_call_output", "call_id": "call_2", "output": "done"},
             {"type": "local_shell_call", "call_id": "call_3", "action": {"command": ["ls"]}},
             {"type": "local_shell_call_output", "call_id": "call_3", "output": "a b"},
             {"type": "web_search_call", "id": "ws_1", "action": {"type": "search", "query": "q"}},
             {"type": "item_reference", "id": "msg_old"}]
    body = load(SCHEMA, {"model": G3, "input": items})
    listed = input_items(body, new_id, referenced={"msg_old": {"id": "msg_old", "type": "message", "role": "user",
                                                               "status": "completed", "content": []}})
    assert [item["id"] for item in listed] == ["msg_0123", "msg_mine", "rs_0123", "msg_0123", "fc_0123", "fc_0123",
                                               "ctc_0123", "ctc_0123", "lsh_0123", "lsh_0123", "ws_1", "msg_old"]
    assert listed[3]["content"] == [{"type": "output_text", "text": "ok", "annotations": [], "logprobs": []},
                                    {"type": "refusal", "refusal": "no"}]
    assert listed[2] == {"id": "rs_0123", "type": "reasoning", "summary": [], "encrypted_content": "gp1.x.y"}
    for item in listed:
        errors = [error.message[:200] for error in openai_validator("ItemResource").iter_errors(item)]
        assert not errors, (item, errors)
    assert input_items(load(SCHEMA, {"model": G3, "input": "hi"}), new_id) == [
        {"id": "msg_0123", "type": "message", "role": "user", "status": "completed",
         "content": [{"type": "input_text", "text": "hi"}]}]
    assert input_items(body, new_id)[-1] == {"type": "item_reference", "id": "msg_old"}


def test_call_ids_name_every_call_for_the_signature_lookup():
    items = [USER, call("c1", "x"), {"type": "custom_tool_call", "call_id": "c2", "name": "p", "input": ""},
             {"type": "local_shell_call", "call_id": "c3", "action": {"command": ["ls"]}}, output("c1", "y"),
             call("c1", "x")]
    assert call_ids(load(SCHEMA, {"model": G3, "input": items})["input"]) == ["c1", "c2", "c3"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


@pytest.fixture(scope="module")
def image_server():
    with serving_image(PNG) as server:
        yield server


def loaded_items(items):
    return load(SCHEMA, {"model": G3, "input": items})["input"]


def test_media_of_items_decodes_and_fetches_every_media_part_by_param(image_server):
    url = f"http://127.0.0.1:{image_server.server_port}/a.png"
    data_png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    items = loaded_items([
        {"role": "user", "content": [{"type": "input_text", "text": "see"}, {"type": "input_image", "image_url": url},
                                     {"type": "input_image", "image_url": data_png}]},
        {"id": "msg_ref"},
        call("c1", "x"),
        {"type": "function_call_output", "call_id": "c1", "output": [
            {"type": "input_image", "image_url": url},
            {"type": "input_file", "file_data": base64.b64encode(b"%PDF-1").decode(), "filename": "r.pdf"}]},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                                     {"type": "input_file", "file_url": "data:text/plain,hello"}]}])
    referenced = {"msg_ref": {"id": "msg_ref", "type": "message", "role": "user",
                              "content": [{"type": "input_image", "image_url": data_png, "detail": "auto"}]}}
    history = [{"id": "msg_0", "type": "message", "role": "user", "status": "completed",
                "content": [{"type": "input_file", "file_data": "data:application/pdf;base64,JVBERg==",
                             "filename": "old.pdf"}]}]
    image_server.paths.clear()
    media = media_of_items(items, MediaLimits(allow_private=True), history=history, referenced=referenced)
    assert media == {
        "input[0].content[1]": ("image/png", PNG), "input[0].content[2]": ("image/png", PNG),
        "input[1].content[0]": ("image/png", PNG), "input[3].output[0]": ("image/png", PNG),
        "input[3].output[1]": ("application/pdf", b"%PDF-1"), "input[4].content[0]": ("audio/wav", b"RIFF"),
        "input[4].content[1]": ("text/plain", b"hello"), "history[0].content[0]": ("application/pdf", b"%PDF")}
    assert image_server.paths == ["/a.png"]  # each URL fetched once


def test_media_of_items_refuses_bad_media_naming_the_part(image_server):
    def refused_media(items, fetch_urls=True):
        with pytest.raises(ApiError) as caught:
            media_of_items(loaded_items(items), MediaLimits(), fetch_urls)
        assert caught.value.status == 400
        return caught.value

    url = f"http://127.0.0.1:{image_server.server_port}/a.png"
    private = refused_media([{"role": "user", "content": [{"type": "input_image", "image_url": url}]}])
    assert (private.param, "not a public address" in private.message) == ("input[0].content[0].image_url", True)
    off = refused_media([USER, {"role": "user", "content": [{"type": "input_file", "file_url": url}]}],
                        fetch_urls=False)
    assert (off.param, off.code) == ("input[1].content[0].file_url", "unsupported_parameter")
    bad = refused_media([{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png,"}]}])
    assert bad.param == "input[0].content[0]"
    audio = refused_media([{"role": "user", "content": [{"type": "input_audio",
                                                         "input_audio": {"data": "UklGRg==", "format": "midi"}}]}])
    assert audio.param == "input[0].content[0]"
    unknown = refused_media([{"role": "user", "content": [{"type": "input_file", "file_data": "JVBERg==",
                                                           "filename": "a.xyz"}]}])
    assert unknown.param == "input[0].content[0]"
