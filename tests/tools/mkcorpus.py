#!/usr/bin/env python3
# mkcorpus.py -- (re)writes tests/tools/corpus/NNN-*.txt/.json: the reply corpus
# of the tool-call parser, each case with its expected outcome (see
# corpus/README.md).  The cases are written out here so the 50 KB ones stay
# reproducible; edit this file, rerun it, commit both.
import json, os
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
M = '7f3a9c1e'
def blk(name, args, marker=M, raw=None):
    body = raw if raw is not None else json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    m = f' marker="{marker}"' if marker else ''
    return f'<tool_call{m}>\n{body}\n</tool_call>'
W = lambda city: {"city": city}
cases = []
def case(name, reply, about, calls=(), **kw):
    exp = {"about": about, "calls": [{"name": n, "args": a} for n, a in calls]}
    exp.update(kw)
    cases.append((name, reply, exp))

# --- the documented format
case("doc-basic", blk("get_weather", W("Paris")), "the documented format, nothing else", [("get_weather", W("Paris"))], text="", repairs=[])
case("doc-prose-before", "I'll look up the current weather in Paris for you.\n\n" + blk("get_weather", W("Paris")),
     "prose, then the block", [("get_weather", W("Paris"))], text="I'll look up the current weather in Paris for you.\n\n", repairs=[])
case("doc-prose-after", blk("get_weather", W("Paris")) + "\n\nOnce I have the result I will summarise it.",
     "block, then prose", [("get_weather", W("Paris"))], text="\n\nOnce I have the result I will summarise it.", repairs=[])
case("doc-prose-both", "Let me check that.\n" + blk("get_weather", {"city": "Paris", "unit": "c"}) + "\nOne moment.",
     "prose around the block", [("get_weather", {"city": "Paris", "unit": "c"})], text="Let me check that.\n\nOne moment.", repairs=[])
case("doc-two-calls", "Checking both cities.\n\n" + blk("get_weather", W("Paris")) + "\n" + blk("get_weather", W("London")),
     "two parallel calls", [("get_weather", W("Paris")), ("get_weather", W("London"))], repairs=[])
case("doc-three-calls", blk("get_weather", W("Berlin")) + "\n" + blk("search", {"query": "Berlin events this weekend", "limit": 5}) + "\n" + blk("get_time", {}),
     "three calls to three tools", [("get_weather", W("Berlin")), ("search", {"query": "Berlin events this weekend", "limit": 5}), ("get_time", {})], text="\n\n", repairs=[])
case("doc-inline", 'Sure! <tool_call marker="7f3a9c1e">{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>',
     "marked block inside a line (the marker makes it a call anywhere)", [("get_weather", W("Paris"))], text="Sure! ", repairs=[])
case("doc-single-quote-attr", "<tool_call marker='7f3a9c1e'>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
     "marker attribute in single quotes", [("get_weather", W("Paris"))], repairs=[])
case("doc-no-args", blk("get_time", {}), "a tool without parameters", [("get_time", {})], repairs=[])
case("doc-args-missing", blk(None, None, raw='{"name": "get_time"}'), "no arguments key: {} is implied", [("get_time", {})], repairs=[])
ev = {"title": "Design review", "start": "2026-12-02T10:00:00Z", "attendees": [{"name": "Ana", "email": "ana@example.com"}, {"name": "Bo", "email": "bo@example.com"}]}
case("doc-nested", blk("create_event", ev), "nested objects inside an array", [("create_event", ev)], repairs=[])
case("doc-unicode-escapes", blk(None, None, raw='{"name": "get_weather", "arguments": {"city": "S\\u00e3o Paulo"}}'),
     "\\u escapes are decoded and re-encoded", [("get_weather", W("São Paulo"))], repairs=[])
case("doc-cjk", "好的，我来查一下东京的天气。\n\n" + blk("get_weather", W("東京")) + "\n",
     "CJK prose and arguments", [("get_weather", W("東京"))], text="好的，我来查一下东京的天气。\n\n\n", repairs=[])
case("doc-emoji", blk("search", {"query": "best 🍕 in Napoli ☀️", "limit": 3}), "emoji (4-byte UTF-8) in arguments",
     [("search", {"query": "best 🍕 in Napoli ☀️", "limit": 3})], repairs=[])
case("doc-crlf", "Checking.\r\n<tool_call marker=\"7f3a9c1e\">\r\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\r\n</tool_call>\r\n",
     "CRLF line endings", [("get_weather", W("Paris"))], text="Checking.\r\n\r\n", repairs=[])
case("doc-indented", "Here is the call:\n    " + blk("get_weather", W("Paris")).replace("\n", "\n    "),
     "indented block", [("get_weather", W("Paris"))], repairs=[])
case("doc-pretty-args", '<tool_call marker="7f3a9c1e">\n{\n  "name": "create_event",\n  "arguments": {\n    "title": "Standup",\n    "start": "2026-12-03T09:00:00Z",\n    "attendees": []\n  }\n}\n</tool_call>',
     "pretty-printed JSON across lines", [("create_event", {"title": "Standup", "start": "2026-12-03T09:00:00Z", "attendees": []})], repairs=[])
case("close-tag-missing-eof", '<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n',
     "the model stopped after the JSON", [("get_weather", W("Paris"))], text="", repairs=["close_tag"])
case("close-tag-missing-prose", '<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Paris"}}\nI will wait for the result.',
     "no closing tag, prose follows", [("get_weather", W("Paris"))], text="\nI will wait for the result.", repairs=["close_tag"])
case("close-tag-missing-two-calls", '<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Paris"}}\nAnd the second one:\n' + blk("get_weather", W("Rome")),
     "the first block's closing tag is missing, a second block follows", [("get_weather", W("Paris")), ("get_weather", W("Rome"))], text="\nAnd the second one:\n", repairs=["close_tag"])
case("shape-name-attr", '<tool_call marker="7f3a9c1e" name="get_weather">\n{"city": "Paris"}\n</tool_call>',
     "tool name as an attribute, arguments as the body", [("get_weather", W("Paris"))], repairs=["shape"])
case("shape-openai", blk(None, None, raw='{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}'),
     "OpenAI tool_calls shape with arguments as a string", [("get_weather", W("Paris"))], repairs=["shape", "args_string"])
case("shape-parameters", blk(None, None, raw='{"name": "get_weather", "parameters": {"city": "Paris"}}'),
     "'parameters' instead of 'arguments'", [("get_weather", W("Paris"))], repairs=["shape"])
case("shape-array", blk(None, None, raw='[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]'),
     "an array of two calls in one block", [("get_weather", W("Paris")), ("get_weather", W("Rome"))], repairs=[])
case("args-as-string", blk(None, None, raw='{"name": "search", "arguments": "{\\"query\\": \\"flights to Oslo\\", \\"limit\\": 10}"}'),
     "arguments JSON-encoded as a string", [("search", {"query": "flights to Oslo", "limit": 10})], repairs=["args_string"])

# --- fenced
case("fence-inside-block", 'Checking.\n<tool_call marker="7f3a9c1e">\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n</tool_call>',
     "the JSON fenced inside the marked block", [("get_weather", W("Paris"))], text="Checking.\n", repairs=["fence"])
case("fence-json", 'I will call the weather tool.\n\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
     "call in a ```json fence", [("get_weather", W("Paris"))], text="I will call the weather tool.\n\n", repairs=["fence"])
case("fence-plain", '```\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\n', "call in a bare ``` fence",
     [("get_weather", W("Paris"))], text="\n", repairs=["fence"])
case("fence-prose-after", '```json\n{"name": "search", "arguments": {"query": "rust async book"}}\n```\nI will go through the results next.',
     "fence then prose", [("search", {"query": "rust async book"})], text="\nI will go through the results next.", repairs=["fence"])
case("fence-xml-marked", '```xml\n' + blk("get_weather", W("Paris")) + '\n```', "the marked block wrapped in a fence",
     [("get_weather", W("Paris"))], text="", repairs=["fence"])
case("fence-tool-code-unmarked", '```tool_code\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n```',
     "unmarked block in a fence", [("get_weather", W("Paris"))], repairs=["fence", "marker"])
case("fence-two-objects", '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n{"name": "get_weather", "arguments": {"city": "Lyon"}}\n```',
     "two call objects in one fence", [("get_weather", W("Paris")), ("get_weather", W("Lyon"))], repairs=["fence"])
case("fence-array", '```json\n[\n  {"name": "get_time", "arguments": {}},\n  {"name": "get_weather", "arguments": {"city": "Oslo"}}\n]\n```',
     "an array of calls in a fence", [("get_time", {}), ("get_weather", W("Oslo"))], repairs=["fence"])
case("fence-config-json", 'Here is a sample configuration:\n\n```json\n{"name": "my-service", "port": 8080, "debug": false}\n```\n',
     "a JSON code sample that is not a call", text='Here is a sample configuration:\n\n```json\n{"name": "my-service", "port": 8080, "debug": false}\n```\n')
case("fence-python", 'Use this:\n\n```python\ndef weather(city):\n    return {"city": city}\n```\n',
     "a python code block", text='Use this:\n\n```python\ndef weather(city):\n    return {"city": city}\n```\n')
case("fence-unknown-tool", '```json\n{"name": "book_flight", "arguments": {"to": "Oslo"}}\n```',
     "fenced call of a tool that was not declared: text", text='```json\n{"name": "book_flight", "arguments": {"to": "Oslo"}}\n```')
case("fence-example-placeholder", 'To call a tool I write:\n\n```\n<tool_call>\n{"name": "TOOL_NAME", "arguments": {}}\n</tool_call>\n```\n',
     "the format quoted as an example with a placeholder name: text", text='To call a tool I write:\n\n```\n<tool_call>\n{"name": "TOOL_NAME", "arguments": {}}\n</tool_call>\n```\n')

# --- Gemini's tool_code habit
case("toolcode-print", 'Let me check.\n```tool_code\nprint(default_api.get_weather(city="Paris"))\n```', "Gemini's ```tool_code fence with print(default_api.x(...))",
     [("get_weather", W("Paris"))], text="Let me check.\n", repairs=["fence", "tool_code"])
case("toolcode-plain", "```tool_code\nget_weather(city='Paris', unit=\"c\")\n```", "a plain Python call, single-quoted value",
     [("get_weather", {"city": "Paris", "unit": "c"})], repairs=["fence", "tool_code", "single_quotes"])
case("toolcode-two-calls", '```tool_code\nprint(default_api.get_weather(city="Paris"))\nprint(default_api.search(query="Paris museums", limit=3, safe=True, lang=None))\n```',
     "two calls, Python literals", [("get_weather", W("Paris")), ("search", {"query": "Paris museums", "limit": 3, "safe": True, "lang": None})],
     repairs=["fence", "tool_code", "py_literals"])
case("toolcode-triple-quoted", '```tool_code\nwrite_file(path="app.py", content="""def main():\n    print("hi \\"there\\"")\n""")\n```',
     "a triple-quoted multi-line string argument (Python escapes: \\\" is a quote)", [("write_file", {"path": "app.py", "content": 'def main():\n    print("hi "there"")\n'})],
     repairs=["fence", "tool_code", "raw_control"])
case("toolcode-positional", '```tool_code\nprint(default_api.get_weather("Paris"))\n```', "positional arguments cannot be mapped: error",
     error="keyword arguments")
case("toolcode-unknown", '```tool_code\nprint(default_api.book_flight(to="Oslo"))\n```', "tool_code naming an undeclared tool: text",
     text='```tool_code\nprint(default_api.book_flight(to="Oslo"))\n```')
case("python-fence-call", 'Example:\n```python\nget_weather(city="Paris")\n```\n', "the same call in a python code block is code, not a call",
     text='Example:\n```python\nget_weather(city="Paris")\n```\n')

# --- bare JSON
case("bare-json", '{"name": "get_weather", "arguments": {"city": "Paris"}}', "the call as bare JSON", [("get_weather", W("Paris"))], text="", repairs=["bare_json"])
case("bare-json-after-prose", 'Let me check.\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n', "bare JSON on its own line after prose",
     [("get_weather", W("Paris"))], text="Let me check.\n\n", repairs=["bare_json"])
case("bare-json-pretty", '{\n  "name": "search",\n  "arguments": {\n    "query": "weather API",\n    "limit": 2\n  }\n}', "pretty-printed bare JSON",
     [("search", {"query": "weather API", "limit": 2})], repairs=["bare_json"])
case("bare-json-data", 'Here is the forecast as JSON:\n{"city": "Paris", "temp_c": 12, "sky": "cloudy"}\n',
     "a JSON answer that is not a call", text='Here is the forecast as JSON:\n{"city": "Paris", "temp_c": 12, "sky": "cloudy"}\n')
case("bare-json-inline", 'The call would be {"name": "get_weather", "arguments": {"city": "Paris"}} if I made it.',
     "JSON inside a sentence is not a call", text='The call would be {"name": "get_weather", "arguments": {"city": "Paris"}} if I made it.')

# --- marker
case("marker-missing", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', "exact structure, marker left out (line start): a call",
     [("get_weather", W("Paris"))], repairs=["marker"])
case("marker-wrong", '<tool_call marker="0badc0de">\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', "a stale marker (line start): a call",
     [("get_weather", W("Paris"))], repairs=["marker"])
case("quoted-inline-no-marker", 'You would write <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call> to call it, but I do not need to.',
     "the format quoted in prose without the marker: text",
     text='You would write <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call> to call it, but I do not need to.')
case("quoted-backticks", 'Tool calls use a `<tool_call>` tag around a JSON object such as `{"name": "get_weather"}`.',
     "tag name in backticks", text='Tool calls use a `<tool_call>` tag around a JSON object such as `{"name": "get_weather"}`.')
case("describe-instead", 'I would call get_weather with the city set to Paris.', "describes a call without making it: text",
     text='I would call get_weather with the city set to Paris.')
case("describe-instead-required", 'I would call get_weather with the city set to Paris.', "tool_choice required and no call: error",
     choice="required", error="must call one of the tools", text='I would call get_weather with the city set to Paris.')
case("lookalike-tags", 'The API returns <tool_calls> and <tool_call_result> elements.', "look-alike tag names", text='The API returns <tool_calls> and <tool_call_result> elements.')
case("markdown-link-line", '[Paris weather](https://example.com/paris)\n[London](https://example.com/london)\n', "lines starting with [ that are links",
     text='[Paris weather](https://example.com/paris)\n[London](https://example.com/london)\n')
case("hallucinated-result", blk("get_weather", W("Paris")) + '\n<tool_result name="get_weather">\n{"temp": 12}\n</tool_result>',
     "a call followed by an invented result (kept as text)", [("get_weather", W("Paris"))], text='\n<tool_result name="get_weather">\n{"temp": 12}\n</tool_result>')

# --- repairable JSON
case("repair-trailing-comma", blk(None, None, raw='{"name": "get_weather", "arguments": {"city": "Paris",},}'), "trailing commas",
     [("get_weather", W("Paris"))], repairs=["trailing_comma"])
case("repair-single-quotes", blk(None, None, raw="{'name': 'get_weather', 'arguments': {'city': 'Paris'}}"), "single-quoted keys and strings",
     [("get_weather", W("Paris"))], repairs=["single_quotes"])
case("repair-single-quotes-inner-dq", blk(None, None, raw="{'name': 'search', 'arguments': {'query': 'the \"best\" croissant'}}"), "single-quoted string containing double quotes",
     [("search", {"query": 'the "best" croissant'})], repairs=["single_quotes"])
case("repair-unquoted-keys", blk(None, None, raw='{name: "get_weather", arguments: {city: "Paris"}}'), "unquoted keys",
     [("get_weather", W("Paris"))], repairs=["unquoted_keys"])
case("repair-py-literals", blk(None, None, raw='{"name": "search", "arguments": {"query": "museums", "safe": True, "lang": None}}'), "Python True/None",
     [("search", {"query": "museums", "safe": True, "lang": None})], repairs=["py_literals"])
case("repair-raw-newlines", blk(None, None, raw='{"name": "write_file", "arguments": {"path": "notes.txt", "content": "line one\nline two\n\tindented"}}'), "raw newlines and tabs inside a string",
     [("write_file", {"path": "notes.txt", "content": "line one\nline two\n\tindented"})], repairs=["raw_control"])
case("repair-bad-escape", blk(None, None, raw='{"name": "search", "arguments": {"query": "\\d+ apples and it\\\'s fine"}}'), "\\d and \\' escapes",
     [("search", {"query": "\\d+ apples and it's fine"})], repairs=["bad_escape"])
case("repair-missing-brace", '<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Paris"}\n</tool_call>', "final brace missing before the closing tag",
     [("get_weather", W("Paris"))], repairs=["close_brackets"])
case("repair-apostrophe-in-dq", blk(None, None, raw='{"name": "search", "arguments": {"query": "Paris\'s best cafés",}}'), "an apostrophe inside a normal string (untouched) + trailing comma",
     [("search", {"query": "Paris's best cafés"})], repairs=["trailing_comma"])
case("repair-fenced-trailing-comma", '```json\n{"name": "get_weather", "arguments": {"city": "Paris",}}\n```', "fenced and a trailing comma",
     [("get_weather", W("Paris"))], repairs=["fence", "trailing_comma"])

# --- unrepairable
case("broken-truncated", 'Sure.\n<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Par', "reply cut off inside the JSON",
     error="malformed or truncated", text='Sure.\n<tool_call marker="7f3a9c1e">\n{"name": "get_weather", "arguments": {"city": "Par')
case("broken-function-syntax", '<tool_call marker="7f3a9c1e">\nget_weather(city="Paris")\n</tool_call>', "a Python-style call in the block",
     error="does not contain a JSON object")
case("broken-apostrophe-single-quoted", blk(None, None, raw="{'name': 'search', 'arguments': {'query': 'it's raining'}}"), "single quotes with an apostrophe: ambiguous, not repaired",
     error="malformed")
case("broken-missing-comma", blk(None, None, raw='{"name": "get_weather" "arguments": {"city": "Paris"}}'), "missing comma", error="could not be parsed")
case("broken-unquoted-value", blk(None, None, raw='{"name": "get_weather", "arguments": {"city": Paris}}'), "unquoted string value", error="could not be parsed")
case("broken-extra-brace", blk(None, None, raw='{"name": "get_weather", "arguments": {"city": "Paris"}}}'), "an extra closing brace", error="malformed")

# --- schema
case("schema-wrong-type", blk("get_weather", {"city": 42}), "number where a string is required", error="get_weather: $.city: expected string, got number")
case("schema-missing-required", blk("get_weather", {"unit": "c"}), "required property missing", error="missing required property \"city\"")
case("schema-enum", blk("get_weather", {"city": "Paris", "unit": "kelvin"}), "value outside the enum", error="$.unit: must be one of \"c\", \"f\"")
case("schema-additional", blk("get_weather", {"city": "Paris", "country": "FR"}), "additionalProperties false", error="unexpected property \"country\"")
case("schema-nested", blk("create_event", {"title": "x", "start": "2026-12-02T10:00:00Z", "attendees": [{"name": "Ana", "email": "a@x"}, {"name": "Bo"}]}),
     "nested array item missing a field", error="$.attendees[1]: missing required property \"email\"")
case("schema-integer", blk("search", {"query": "x", "limit": 2.5}), "integer expected", error="$.limit: expected integer")
case("schema-maximum", blk("search", {"query": "x", "limit": 500}), "maximum", error="$.limit: must be <= 50")
case("schema-one-of-two-invalid", blk("get_weather", W("Paris")) + "\n" + blk("get_weather", {"city": None}), "two calls, the second invalid: the first is kept, an error is reported",
     [("get_weather", W("Paris"))], error="$.city: expected string, got null")

# --- names
case("name-wrong-case", blk("Get_Weather", W("Paris")), "tool name in the wrong case", [("get_weather", W("Paris"))], repairs=["name_case"])
case("name-upper-fenced", '```json\n{"name": "GET_TIME", "arguments": {}}\n```', "wrong case inside a fence", [("get_time", {})], repairs=["fence", "name_case"])
case("name-unknown-marked", blk("book_flight", {"to": "Oslo"}), "a marked call to an undeclared tool: error", error="unknown tool \"book_flight\"")
case("name-unknown-bare", '{"name": "book_flight", "arguments": {"to": "Oslo"}}', "bare JSON naming an undeclared tool: text",
     text='{"name": "book_flight", "arguments": {"to": "Oslo"}}')

# --- reasoning
case("reasoning-quoted-call", "Which city do you mean, Paris in France or Paris, Texas?", "the thinking contained a complete call; only the answer is parsed",
     text="Which city do you mean, Paris in France or Paris, Texas?",
     reasoning='The user wants weather. I could write:\n' + blk("get_weather", W("Paris")) + '\nbut the city is ambiguous, so I should ask first.')

# --- tool_choice / parallel
case("parallel-false", blk("get_weather", W("Paris")) + "\n" + blk("get_weather", W("Rome")), "parallel_tool_calls false keeps the first",
     [("get_weather", W("Paris"))], parallel=False, repairs=["parallel_dropped"])
case("named-other-tool", blk("search", {"query": "Paris"}), "tool_choice names get_weather, the reply calls search", choice="named", choice_name="get_weather",
     error="must call the tool \"get_weather\"")
case("named-ok", blk("get_weather", W("Paris")), "tool_choice named, satisfied", [("get_weather", W("Paris"))], choice="named", choice_name="get_weather")
case("required-ok", "Calling now.\n" + blk("get_time", {}), "tool_choice required, satisfied", [("get_time", {})], choice="required")

# --- big arguments (50 KB)
def big_content():
    parts = []
    i = 0
    while sum(len(p.encode()) for p in parts) < 50 * 1024:
        parts.append(f'// 第{i}行: path "C:\\\\temp\\\\file{i}.txt"\tvalue = {{"k": [{i}, "\\u00e9"]}}; 東京タワー 🗼 naïve\n')
        i += 1
    return "".join(parts)
content = big_content()
bargs = {"path": "src/big_文件.js", "content": content}
case("big-50kb-escaped", "I'll write the file now.\n" + blk("write_file", bargs) + "\nDone writing.", "a 50 KB file body with quotes, backslashes, tabs, CJK, emoji and \\u escapes",
     [("write_file", bargs)], text="I'll write the file now.\n\nDone writing.", repairs=[])
rawbody = '{"name": "write_file", "arguments": {"path": "src/big.js", "content": "' + content.replace('\\', '\\\\').replace('"', '\\"') + '"}}'
case("big-50kb-raw-newlines", '<tool_call marker="7f3a9c1e">\n' + rawbody + '\n</tool_call>', "a 50 KB body whose newlines and tabs were not escaped",
     [("write_file", {"path": "src/big.js", "content": content})], repairs=["raw_control"])
case("big-50kb-fenced", '```json\n' + json.dumps({"name": "write_file", "arguments": {"path": "a.txt", "content": content}}, ensure_ascii=False) + '\n```',
     "a 50 KB call in a fence", [("write_file", {"path": "a.txt", "content": content})], repairs=["fence"])
case("big-50kb-ascii-escaped", blk(None, None, raw=json.dumps({"name": "write_file", "arguments": {"path": "u.txt", "content": content}}, ensure_ascii=True)),
     "a 50 KB body with every non-ASCII character \\u-escaped (surrogate pairs for emoji)", [("write_file", {"path": "u.txt", "content": content})], repairs=[])

for f in os.listdir(D):
    if f[:3].isdigit():
        os.remove(os.path.join(D, f))
for i, (name, reply, exp) in enumerate(cases, 1):
    base = os.path.join(D, f"{i:03d}-{name}")
    with open(base + ".txt", "w", newline="") as f:
        f.write(reply)
    with open(base + ".json", "w") as f:
        json.dump(exp, f, ensure_ascii=False, indent=1)
        f.write("\n")
print(len(cases), "cases")
