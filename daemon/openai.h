/* openai.h -- compatibility include: the OpenAI dialect now lives in
 * dialect/openai_chat.h (request parsing, encoders, error envelope) and the
 * protocol-neutral helpers in core/ (flatten.h, tokens.h). */
#ifndef OPENAI_H
#define OPENAI_H

#include "openai_chat.h"

#endif
