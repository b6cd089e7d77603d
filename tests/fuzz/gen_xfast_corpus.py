#!/usr/bin/env python3
"""gen_xfast_corpus.py -- seed corpus for fuzz_xfast (writes corpus/xfast/).

Elements in the fake upstream's shapes (tests/fake_upstream/stream.c): the
first element (uToken, flagged thought, sessionInfo {}, assistToken), thought
and answer fragments, image text with <ctrl46>, a file reply, the SUCCEEDED
element, an in-band error; each pretty (Google's 2-space layout) and
compact, with raw UTF-8 (CJK, emoji) and ASCII-only (\\u escapes incl.
surrogate pairs), plus reordered keys and a few whole streams.
"""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "xfast")
os.makedirs(out, exist_ok=True)

def reply(text, thought=False, order=None):
    c = {"role": "model", "text": text}
    if thought:
        c["thought"] = True
    if order == "rev":
        c = dict(reversed(list(c.items())))
    return {"groundedContent": {"content": c}}

def elem(replies, first=False, session=None):
    e = {}
    if first:
        e["uToken"] = "d11e75de276bfa6a0520258ba9f8abaa"
    sar = {"answer": {"state": "IN_PROGRESS", "replies": replies, "adkAuthor": "root_agent"}}
    if first:
        sar["sessionInfo"] = {}
        sar["assistToken"] = "a27a7ebfb18eeb6d27259608597bfff6"
    if session:
        sar["sessionInfo"] = {"session": session}
    e["streamAssistResponse"] = sar
    return e

S = "projects/372889301682/locations/global/collections/default_collection/engines/agentspace-engine/sessions/1839"
elements = {
    "first": elem([reply("**Assessing the Request**\n\nThe user sent a 5-byte message.", True)], first=True),
    "thought2": elem([reply("**Generating Response**\n\nDrafting the lines and the echo now.", True)]),
    "cjk": elem([reply("春眠不觉晓，处处闻啼鸟。 echo: ")]),
    "escapes": elem([reply("line\nnext\t\"q\" back\\slash /slash \b\f\r end")]),
    "emoji": elem([reply("Ünïcödé ✓ — mixed 😀 text 𝄞")]),
    "ctrl46": elem([reply("<ctrl46>Image size: (8, 8)\n")]),
    "heading_unflagged": elem([reply("**Formulating the Response**\n\nno flag")]),
    "multi": elem([reply("a", True), reply(""), reply("b", order="rev"), reply("c")]),
    "session": elem([reply("x")], session=S),
    "thought_str": {"streamAssistResponse": {"answer": {"state": "IN_PROGRESS", "replies": [
        {"groundedContent": {"content": {"text": "t", "thought": "true"}}}]}}},
    "file": {"streamAssistResponse": {"answer": {"state": "IN_PROGRESS", "replies": [
        {"groundedContent": {"content": {"role": "model", "file": {
            "fileId": "7f3c", "mimeType": "image/png", "name": "generated_image_1.png"}}}}]}}},
    "final": {"streamAssistResponse": {"answer": {"name": S + "/answers/1", "state": "SUCCEEDED"},
              "sessionInfo": {"session": S, "queryId": "q-1", "turnId": "t-1"}}},
    "error": {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
              "status": "RESOURCE_EXHAUSTED"}},
}

def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data.encode("utf-8"))

for name, e in elements.items():
    write(name + "_pretty.json", json.dumps(e, indent=2, ensure_ascii=False))
    write(name + "_compact.json", json.dumps(e, separators=(",", ":"), ensure_ascii=False))
    write(name + "_ascii.json", json.dumps(e, indent=2, ensure_ascii=True))
    r = dict(reversed(list(e.items())))
    write(name + "_reordered.json", json.dumps(r, separators=(", ", ": "), ensure_ascii=True))

# raw string insides (the harness also wraps each input into a text string)
texts = {
    "cjk": "春眠不觉晓，处处闻啼鸟。",
    "escapes": "a\\n\\t\\\"q\\\" \\\\ \\/ \\b\\f\\r",
    "uescapes": "\\u00e9\\u4e2d\\u00E9\\u0041\\u007f\\u0080\\u07ff\\u0800\\uffff",
    "surrogates": "\\ud83d\\ude00 \\uD834\\uDD1E \\udbff\\udfff 😀",
    "ctrl46": "<ctrl46>Image size: (8, 8)\\nkept\\n",
    "heading": "**Assessing the Request**\\n\\nthinking",
}
for name, t in texts.items():
    write("text_" + name + ".txt", t)

stream = [elements[k] for k in ("first", "thought2", "cjk", "escapes", "emoji", "final")]
write("stream_pretty.json", "[" + "\n,\r\n".join(json.dumps(e, indent=2, ensure_ascii=False) for e in stream) + "\n]")
write("stream_compact.json", "[" + ",".join(json.dumps(e, separators=(",", ":")) for e in stream) + "]")
sys.exit(0)
