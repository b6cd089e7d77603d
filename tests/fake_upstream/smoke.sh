#!/usr/bin/env bash
# smoke.sh - end-to-end smoke test of fake_upstream (bash + curl + node).
#
#   tests/fake_upstream/smoke.sh [PATH/TO/fake_upstream]
#
# Starts the fake on an ephemeral port, walks the whole protocol
# (getoxsrf, JWT, createSession, streamAssist plain/gzip/compact, upload,
# image generation, file metadata, both download forms, scenarios,
# directives, record) and exits non-zero on the first failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-${FAKE_UPSTREAM:-}}
if [[ -z "$BIN" ]]; then
  for c in "$here/../../build/tests/fake_upstream/fake_upstream" \
           /tmp/fbuild/tests/fake_upstream/fake_upstream; do
    [[ -x "$c" ]] && BIN=$c && break
  done
fi
[[ -x "${BIN:-}" ]] || { echo "smoke: fake_upstream binary not found" >&2; exit 2; }
command -v node >/dev/null || { echo "smoke: node is required" >&2; exit 2; }

tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail() { echo "FAIL: $*" >&2; echo "--- fake stderr:" >&2; tail -n 20 "$tmp/stderr" >&2 || true; exit 1; }
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }

"$BIN" --port 0 --port-file "$tmp/port" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 1 100); do [[ -s "$tmp/port" ]] && break; sleep 0.05; done
[[ -s "$tmp/port" ]] || fail "no port file"
port=$(cat "$tmp/port")
B="http://127.0.0.1:$port"
grep -q "listening on 127.0.0.1:$port" "$tmp/stdout" || fail "no listening line"
ok "started on port $port"

# JWT signer and tiny JSON query helper
cat >"$tmp/sign.js" <<'JS'
const crypto = require('crypto');
const [ox, csesidx, mode] = process.argv.slice(2);
const o = JSON.parse(ox.slice(4).trim());
const key = Buffer.from(o.xsrfToken, 'base64url');
const b64 = s => Buffer.from(s).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const hdr = mode === 'goorder'
  ? {alg: 'HS256', kid: o.keyId, typ: 'JWT'}
  : {alg: 'HS256', typ: 'JWT', kid: o.keyId};
const pl = {iss: 'https://business.gemini.google',
            aud: 'https://biz-discoveryengine.googleapis.com',
            sub: 'csesidx/' + csesidx, iat: now,
            exp: mode === 'expired' ? now - 60 : now + 300,
            nbf: mode === 'expired' ? now - 360 : now};
const si = b64(JSON.stringify(hdr)) + '.' + b64(JSON.stringify(pl));
let sig = crypto.createHmac('sha256', key).update(si).digest('base64url');
if (mode === 'badsig') sig = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA');
process.stdout.write(si + '.' + sig);
JS
cat >"$tmp/q.js" <<'JS'
// usage: node q.js EXPR < json   (EXPR is evaluated with `o` bound)
const o = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const v = eval(process.argv[2]);
process.stdout.write(typeof v === 'string' ? v : JSON.stringify(v));
JS
q() { node "$tmp/q.js" "$1"; }

ox=$(curl -sS -H 'cookie: __Host-C_OSES=x; __Secure-C_SES=demo-ses' \
  "$B/auth/getoxsrf?csesidx=1000001")
[[ "${ox:0:5}" == ")]}'"$'\n' ]] || fail "getoxsrf prefix: $ox"
JWT=$(node "$tmp/sign.js" "$ox" 1000001)
ok "getoxsrf + JWT"

code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'cookie: __Secure-C_SES=nope' \
  "$B/auth/getoxsrf?csesidx=1000001")
[[ "$code" == 401 ]] || fail "bad cookie gave $code"
ok "getoxsrf rejects a wrong cookie"

api() { # api OP BODY [extra curl args...]
  local op=$1 body=$2; shift 2
  curl -sS -X POST "$B/v1alpha/locations/global/$op" \
    -H "authorization: Bearer $JWT" -H 'content-type: application/json' \
    --data-binary "$body" "$@"
}

sess=$(api widgetCreateSession '{"configId":"demo-config","additionalParams":{"token":"-"},"createSessionRequest":{"session":{"name":"","displayName":""}}}' | q 'o.session.name')
[[ "$sess" =~ ^collections/default_collection/engines/agentspace-engine/sessions/[0-9]{19,20}$ ]] || fail "session name '$sess'"
ok "createSession -> $sess"

code=$(api widgetCreateSession '{"configId":"wrong","createSessionRequest":{}}' -o /dev/null -w '%{http_code}')
[[ "$code" == 403 ]] || fail "wrong configId gave $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$B/v1alpha/locations/global/widgetCreateSession" \
  -H "authorization: Bearer $(node "$tmp/sign.js" "$ox" 1000001 badsig)" --data-binary '{"configId":"demo-config"}')
[[ "$code" == 401 ]] || fail "bad signature gave $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$B/v1alpha/locations/global/widgetCreateSession" \
  -H "authorization: Bearer $(node "$tmp/sign.js" "$ox" 1000001 expired)" --data-binary '{"configId":"demo-config"}')
[[ "$code" == 401 ]] || fail "expired JWT gave $code"
code=$(api widgetCreateSession '{"configId":' -o /dev/null -w '%{http_code}')
[[ "$code" == 400 ]] || fail "bad JSON gave $code"
ok "auth/config/JSON errors"

sbody() { # sbody TEXT [FILEIDS_JSON] [TOOLS_JSON] [MODEL]
  local text=$1 fids=${2:-[]} tools=${3:-'{"webGroundingSpec":{},"toolRegistry":"default_tool_registry"}'} model=${4:-gemini-2.5-pro}
  node -e 'const [s,t,f,tl,m]=process.argv.slice(1);process.stdout.write(JSON.stringify({configId:"demo-config",additionalParams:{token:"-"},streamAssistRequest:{session:s,query:{parts:[{text:t}]},filter:"",fileIds:JSON.parse(f),answerGenerationMode:"NORMAL",toolsSpec:JSON.parse(tl),languageCode:"zh-CN",userMetadata:{timeZone:"Asia/Shanghai"},assistSkippingMode:"REQUEST_ASSIST",assistGenerationConfig:{modelId:m}}}))' "$sess" "$text" "$fids" "$tools" "$model"
}

api widgetStreamAssist "$(sbody 'hello 世界')" -D "$tmp/h1" -o "$tmp/s1"
grep -qi '^transfer-encoding: chunked' "$tmp/h1" || fail "stream not chunked"
head -c 3 "$tmp/s1" | grep -q '^\[{' || fail "stream does not start with [{"
[[ "$(tail -c 3 "$tmp/s1" | od -An -c | tr -d ' ')" == '}\n]' ]] || fail "stream does not end with }\\n]"
grep -q $'}\n,\r\n{' "$tmp/s1" || fail "no pretty separator"
answer=$(q 'o.flatMap(e=>(e.streamAssistResponse.answer.replies||[])).map(r=>r.groundedContent.content).filter(c=>c.text&&!c.thought).map(c=>c.text).join("")' < "$tmp/s1")
[[ "$answer" == "春眠不觉晓，处处闻啼鸟。 echo: hello 世界" ]] || fail "answer '$answer'"
thoughts=$(q 'o.flatMap(e=>(e.streamAssistResponse.answer.replies||[])).filter(r=>r.groundedContent.content.thought).length' < "$tmp/s1")
[[ "$thoughts" == 2 ]] || fail "thoughts $thoughts"
last=$(q 'o[o.length-1].streamAssistResponse.answer.state+" "+o[o.length-1].streamAssistResponse.sessionInfo.session' < "$tmp/s1")
[[ "$last" == "SUCCEEDED projects/372889301682/locations/global/$sess" ]] || fail "last element '$last'"
[[ "$(q 'o[0].uToken.length>0 && JSON.stringify(o[0].streamAssistResponse.sessionInfo)==="{}"' < "$tmp/s1")" == true ]] || fail "first element"
ok "streamAssist pretty layout, thoughts, answer, SUCCEEDED"

api widgetStreamAssist "$(sbody 'gz test [[fake:compact]]')" --compressed -D "$tmp/h2" -o "$tmp/s2"
grep -qi '^content-encoding: gzip' "$tmp/h2" || fail "no gzip"
[[ "$(wc -l < "$tmp/s2")" == 0 ]] || fail "compact layout has newlines"
[[ "$(q 'o[o.length-1].streamAssistResponse.answer.state' < "$tmp/s2")" == SUCCEEDED ]] || fail "gzip stream"
api widgetStreamAssist "$(sbody 'x [[fake:nogzip]]')" -H 'accept-encoding: gzip' -D "$tmp/h3" -o /dev/null
grep -qi '^content-encoding' "$tmp/h3" && fail "nogzip ignored"
ok "gzip + compact + nogzip"

code=$(api widgetStreamAssist "$(sbody hi '[]' '{}' gemini-9)" -o /dev/null -w '%{http_code}')
[[ "$code" == 400 ]] || fail "unknown model gave $code"
ok "unknown model -> 400"

b64=$(printf 'hello file' | base64)
up=$(api widgetAddContextFile "{\"configId\":\"demo-config\",\"additionalParams\":{\"token\":\"-\"},\"addContextFileRequest\":{\"name\":\"$sess\",\"fileName\":\"a.txt\",\"mimeType\":\"text/plain\",\"fileContents\":\"$b64\"}}")
fid=$(q 'o.addContextFileResponse.fileId' <<<"$up")
[[ -n "$fid" ]] || fail "upload: $up"
code=$(api widgetAddContextFile "{\"configId\":\"demo-config\",\"addContextFileRequest\":{\"name\":\"$sess\",\"fileName\":\"a.exe\",\"mimeType\":\"application/x-msdownload\",\"fileContents\":\"$b64\"}}" -o "$tmp/e1" -w '%{http_code}')
[[ "$code" == 400 ]] && grep -q 'Unsupported file type: application/x-msdownload' "$tmp/e1" || fail "bad mime gave $code"
code=$(api widgetAddContextFile "{\"configId\":\"demo-config\",\"addContextFileRequest\":{\"name\":\"$sess\",\"fileName\":\"a.txt\",\"mimeType\":\"text/plain\",\"fileContents\":\"aGVsbG8\"}}" -o /dev/null -w '%{http_code}')
[[ "$code" == 400 ]] || fail "unpadded base64 gave $code"
code=$(api widgetStreamAssist "$(sbody 'with file' "[\"$fid\"]")" -o /dev/null -w '%{http_code}')
[[ "$code" == 200 ]] || fail "stream with fileId gave $code"
code=$(api widgetStreamAssist "$(sbody 'bad file' '["nope"]')" -o /dev/null -w '%{http_code}')
[[ "$code" == 400 ]] || fail "unknown fileId gave $code"
ok "addContextFile + fileIds"

api widgetStreamAssist "$(sbody 'draw a cat [[fake:image]]' '[]' '{"imageGenerationSpec":{}}' gemini-2.5-flash)" -o "$tmp/s4"
ifids=$(q '[...new Set(o.flatMap(e=>(e.streamAssistResponse.answer.replies||[])).map(r=>r.groundedContent.content.file).filter(Boolean).map(f=>f.fileId))].join(" ")' < "$tmp/s4")
nref=$(q 'o.flatMap(e=>(e.streamAssistResponse.answer.replies||[])).filter(r=>r.groundedContent.content.file).length' < "$tmp/s4")
[[ -n "$ifids" && "$nref" == 2 ]] || fail "image stream: ids '$ifids' refs $nref"
grep -q '<ctrl46>Image size: (8, 8)' "$tmp/s4" || fail "no image size text"
meta=$(api widgetListSessionFileMetadata "{\"configId\":\"demo-config\",\"additionalParams\":{\"token\":\"-\"},\"listSessionFileMetadataRequest\":{\"name\":\"$sess\",\"filter\":\"file_origin_type = AI_GENERATED\"}}")
msess=$(q 'o.listSessionFileMetadataResponse.fileMetadata[0].session' <<<"$meta")
[[ "$(q 'o.listSessionFileMetadataResponse.fileMetadata.length' <<<"$meta")" == 1 ]] || fail "metadata: $meta"
[[ "$(q 'o.listSessionFileMetadataResponse.fileMetadata[0].fileId' <<<"$meta")" == "$ifids" ]] || fail "metadata fileId"
ok "image generation + listSessionFileMetadata"

want_sha=$(curl -sS "$B/__fake/info" | q 'o.png_sha256')
curl -sS -H "authorization: Bearer $JWT" "$B/v1alpha/$msess:downloadFile?fileId=$ifids&alt=media" -o "$tmp/img.png"
[[ "$(sha256sum < "$tmp/img.png" | cut -d' ' -f1)" == "$want_sha" ]] || fail "raw PNG sha"
head -c 8 "$tmp/img.png" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' || fail "PNG signature"
curl -sS -H "authorization: Bearer $JWT" -H 'x-goog-encode-response-if-executable: base64' \
  "$B/download/v1alpha/$sess:downloadFile?fileId=$ifids&alt=media" -o "$tmp/img.b64"
[[ "$(base64 -d < "$tmp/img.b64" | sha256sum | cut -d' ' -f1)" == "$want_sha" ]] || fail "base64 PNG sha"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer $JWT" "$B/v1alpha/$msess:downloadFile?fileId=$fid&alt=media")
[[ "$code" == 404 ]] || fail "download of an uploaded file gave $code"
ok "downloadFile raw + base64 ($want_sha)"

curl -sS -X POST "$B/__fake/scenario" -d '{"csesidx":"1000001","endpoint":"stream","mode":"http429","count":1}' | grep -q '"ok":true' || fail "scenario post"
code=$(api widgetStreamAssist "$(sbody one)" -o "$tmp/e2" -w '%{http_code}')
[[ "$code" == 429 ]] && grep -q LLM_OVERLOADED "$tmp/e2" || fail "scenario 429 gave $code"
code=$(api widgetStreamAssist "$(sbody two)" -o /dev/null -w '%{http_code}')
[[ "$code" == 200 ]] || fail "scenario not consumed ($code)"
api widgetStreamAssist "$(sbody 'x [[fake:inband429]]')" -o "$tmp/s5"
[[ "$(q 'o[0].error.status' < "$tmp/s5")" == RESOURCE_EXHAUSTED ]] || fail "inband429"
set +e
api widgetStreamAssist "$(sbody 'x [[fake:truncate]]')" -o "$tmp/s6" 2>/dev/null
rc=$?
set -e
[[ $rc != 0 ]] || fail "truncate: curl should report an error"
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))' "$tmp/s6" 2>/dev/null && fail "truncated body parses"
ok "scenario http429, inband429, truncate"

rec=$(curl -sS "$B/__fake/record")
[[ "$(q 'o.requests.filter(r=>r.endpoint==="stream"&&r.query_text==="hello 世界"&&r.model_id==="gemini-2.5-pro"&&r.language_code==="zh-CN"&&r.status===200).length' <<<"$rec")" == 1 ]] || fail "record stream entry"
[[ "$(q 'o.uploads.length===1&&o.uploads[0].size===10&&o.uploads[0].mime_type==="text/plain"' <<<"$rec")" == true ]] || fail "record uploads"
[[ "$(q 'o.downloads.filter(d=>d.status===200).length' <<<"$rec")" == 2 ]] || fail "record downloads"
[[ "$(q 'o.getoxsrf.length' <<<"$rec")" == 2 ]] || fail "record getoxsrf"
[[ "$(q 'o.sessions.length===1 && o.sessions[0].csesidx==="1000001"' <<<"$rec")" == true ]] || fail "record sessions"
[[ "$(q 'o.requests.filter(r=>r.endpoint==="stream"&&r.mode==="truncate").length' <<<"$rec")" == 1 ]] || fail "record mode"
ok "record"

curl -sS -X POST "$B/__fake/reset" | grep -q '"ok":true' || fail reset
[[ "$(curl -sS "$B/__fake/record" | q 'o.requests.length')" == 0 ]] || fail "reset kept requests"
ok "reset"

node "$here/protocol_test.js" "$port" || fail "protocol_test.js"
ok "protocol_test.js (raw HTTP, directives, scenarios, disconnects)"

kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
[[ $rc == 0 ]] || fail "exit status $rc after SIGTERM"
ok "clean exit on SIGTERM"
echo "smoke: all $pass checks passed"
