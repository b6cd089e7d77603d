#!/usr/bin/env bash
# agents/try.sh -- MANUAL check (not part of run_all.sh / CI): point the real
# agent CLIs at a gemgate + fake upstream started here and run one prompt
# each, as a user would:
#   Claude Code  (ANTHROPIC_BASE_URL + ANTHROPIC_AUTH_TOKEN)      -> /v1/messages
#   Codex CLI    (a model provider with wire_api = "responses")   -> /v1/responses
#   Gemini CLI   (GOOGLE_GEMINI_BASE_URL + GEMINI_API_KEY)        -> /v1beta/models/...
#
# The CLIs are too large to install per CI run.  Install them once:
#   mkdir -p /tmp/agents && cd /tmp/agents && npm i @anthropic-ai/claude-code@2.1.197 \
#       @openai/codex@0.171.0 @google/gemini-cli@0.61.0 &&
#   node node_modules/@anthropic-ai/claude-code/install.cjs
# Usage: tests/agents/try.sh [claude|codex|gemini ...]   (default: all three)
#   AGENTS_DIR (default /tmp/agents), GEMGATE_BUILD_DIR (default build),
#   PROMPT (default "say hi").  Each CLI runs with a throwaway HOME.
# Prints each CLI's output and exit status, then "N passed, N failed"
# (a CLI passes when it exits 0 and prints the fake's answer).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/stack.sh"
AGENTS_DIR=${AGENTS_DIR:-/tmp/agents}
PROMPT=${PROMPT:-say hi}
bin=$AGENTS_DIR/node_modules/.bin
[ $# -gt 0 ] || set -- claude codex gemini
for a in "$@"; do
    [ -x "$bin/$a" ] || { echo "try.sh: $bin/$a is missing (see the header for the install)"; exit 2; }
done
stack_start PING_INTERVAL=5 || exit 1
work=$(mktemp -d /tmp/gemgate-agents.XXXXXX)
trap 'stack_stop >/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/proj"
pass=0; fail=0
EXPECT='春眠不觉晓'   # the fake's answer starts with this line

run() {   # name command...
    local name=$1; shift
    echo "=================== $name"
    local out rc
    out=$(cd "$work/proj" && timeout 180 "$@" </dev/null 2>&1); rc=$?
    printf '%s\n' "$out" | tail -25
    if [ $rc = 0 ] && printf '%s' "$out" | grep -q "$EXPECT"; then
        pass=$((pass + 1)); echo "--- $name: ok"
    else
        fail=$((fail + 1)); echo "--- $name: FAILED (exit $rc)"
    fi
}

for a in "$@"; do
    home=$work/home-$a
    mkdir -p "$home"
    case $a in
    claude)
        printf '{"hasCompletedOnboarding":true,"bypassPermissionsModeAccepted":true}\n' >"$home/.claude.json"
        run claude env HOME="$home" ANTHROPIC_BASE_URL="$GG_URL" ANTHROPIC_AUTH_TOKEN="$GG_API_KEY" \
            ANTHROPIC_API_KEY= DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
            "$bin/claude" -p "$PROMPT" ;;
    codex)
        mkdir -p "$home/.codex"
        cat >"$home/.codex/config.toml" <<TOML
model = "gemini-2.5-pro"
model_provider = "gemgate"
[model_providers.gemgate]
name = "gemgate"
base_url = "$GG_URL/v1"
env_key = "GEMGATE_KEY"
wire_api = "responses"
TOML
        run codex env HOME="$home" CODEX_HOME="$home/.codex" GEMGATE_KEY="$GG_API_KEY" \
            "$bin/codex" exec --skip-git-repo-check "$PROMPT" ;;
    gemini)
        mkdir -p "$home/.gemini"
        printf '{"security":{"auth":{"selectedType":"gemini-api-key"}},"telemetry":{"enabled":false}}\n' \
            >"$home/.gemini/settings.json"
        # Gemini CLI first asks a router model for a JSON verdict
        # (responseJsonSchema) and retries until it gets JSON; a real model
        # follows the gateway's JSON instruction, the fake is told to.
        curl -fsS -X POST "$FAKE_URL/__fake/scenario" -H 'content-type: application/json' \
            -d '{"endpoint":"stream","answer":"```json\n{\"complexity_reasoning\": \"a greeting\", \"complexity_score\": 5}\n```"}' >/dev/null
        run gemini env HOME="$home" GOOGLE_GEMINI_BASE_URL="$GG_URL" GEMINI_API_KEY="$GG_API_KEY" \
            GEMINI_CLI_TRUST_WORKSPACE=true "$bin/gemini" -p "$PROMPT" ;;
    *) echo "unknown agent $a"; fail=$((fail + 1)) ;;
    esac
done
echo "gemgated log (request lines):"
grep -E ' (chat|status=)' "$STACK_DIR/gemgated.log" | tail -20
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
