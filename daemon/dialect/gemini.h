/* gemini.h -- the Gemini generateContent dialect (Google's v1beta REST
 * shape) as exch_dialect tables, plus countTokens and the models list.
 *
 * Request: the model comes from the path (exch_parse_in.path_model, with or
 * without "models/"); `contents` (roles user / model; parts text,
 * inlineData, fileData with an http(s) fileUri (SSRF-checked like every
 * fetched URL), functionCall, functionResponse; thought parts of earlier
 * turns dropped), `systemInstruction`, `generationConfig` (stopSequences
 * (at most 4), maxOutputTokens, temperature, topP, topK, candidateCount
 * (> 1 refused), thinkingConfig.includeThoughts -> reasoning returned,
 * responseModalities with IMAGE -> image generation, responseMimeType
 * application/json + responseJsonSchema / responseSchema -> JSON mode: an
 * instruction in the current turn, markdown fences taken off the answer,
 * no schema validation; gemini_json.c), `tools`
 * (functionDeclarations with parameters (Google Schema, types lower-cased)
 * or parametersJsonSchema; googleSearch / googleSearchRetrieval ->
 * grounding), `toolConfig.functionCallingConfig` (mode AUTO / ANY / NONE /
 * VALIDATED, allowedFunctionNames).  Field names are accepted in
 * lowerCamelCase and in snake_case, as Google's JSON parser does.
 *
 * Tool-call ids: Gemini's functionCall / functionResponse `id` is optional.
 * A functionCall without one gets "gcall_<content index>_<part index>",
 * stable while the client resends the same history.  A functionResponse
 * without one answers the first not-yet-answered call of the same name in
 * the most recent model turn that has one (Gemini's name + order rule);
 * the answers' calls emitted by the gateway carry their id, which clients
 * (Gemini CLI, @google/genai) echo back.
 *
 * Answers: GenerateContentResponse objects (candidates[0].content.parts with
 * thought parts {"text","thought":true} when asked, functionCall parts,
 * finishReason STOP / MAX_TOKENS / SAFETY, usageMetadata, modelVersion,
 * responseId).  Two stream framings, one table each:
 *   dialect_gemini        generateContent and streamGenerateContent?alt=sse:
 *                         `data: {chunk}\r\n\r\n` per chunk;
 *   dialect_gemini_array  streamGenerateContent without alt=sse: one JSON
 *                         array "[{chunk}" ",\r\n{chunk}" ... "]".
 * The last chunk carries finishReason and usageMetadata.  A failure after
 * the start is a chunk {"error":{code,message,status}} (closing the array
 * in the array form).  Errors: {"error":{"code","message","status"}} with
 * google.rpc status names and RetryInfo details when a retry delay is known.
 * The state holds no heap memory.
 */
#ifndef GEMINI_H
#define GEMINI_H

#include <stddef.h>
#include <stdint.h>

#include "exch.h"
#include "gg_buf.h"

extern const struct exch_dialect dialect_gemini;
extern const struct exch_dialect dialect_gemini_array;

/* POST /v1beta/models/{m}:countTokens: {"contents":[...]} or
 * {"generateContentRequest":{...}} -> {"totalTokens":N} in out, counting
 * the system instruction, every message, tool declarations and 258 tokens
 * per attachment with `estimate` (the gateway's estimator).  0, or -1 with
 * *err filled (same validation as generateContent). */
int gem_count_tokens(const struct exch_parse_in *in, int64_t (*estimate)(const char *s, size_t n),
                     struct gg_buf *out, struct exch_error *err);

/* GET /v1beta/models (model NULL) -> {"models":[...]}, or GET
 * /v1beta/models/{model} -> one Model ({name:"models/<id>", version,
 * displayName, description, inputTokenLimit, outputTokenLimit,
 * supportedGenerationMethods, temperature, maxTemperature, topP, topK,
 * thinking}).  Aliases resolve; an unknown model is -1 with a 404 in *err. */
int gem_models_body(const char *model, struct gg_buf *out, struct exch_error *err);

/* Routing help for the HTTP layer.  gem_route() classifies a request path
 * (already percent-decoded, without the query): "/v1beta/models" -> LIST,
 * "/v1beta/models/{m}" -> GET, "/v1beta/models/{m}:generateContent" ->
 * GENERATE, ":streamGenerateContent" -> STREAM, ":countTokens" -> COUNT;
 * `model` gets {m} (without "models/"); anything else is GEM_NONE. */
enum gem_method { GEM_NONE = 0, GEM_LIST, GEM_GET, GEM_GENERATE, GEM_STREAM, GEM_COUNT };
enum gem_method gem_route(const char *path, char *model, size_t n);
/* The table for GENERATE / STREAM: `alt` is the ?alt= value or NULL
 * ("sse" -> dialect_gemini, else the JSON-array form for STREAM). */
const struct exch_dialect *gem_dialect_for(enum gem_method m, const char *alt);
/* The caller's key: the x-goog-api-key header, else ?key=, else a Bearer
 * token (any argument may be NULL); NULL when none is given. */
const char *gem_api_key(const char *x_goog_api_key, const char *query_key, const char *authorization);

#endif
