"""OpenAI's Responses API on Gemini, as pure functions beside the chat ones.

carrier.py seals Gemini state (thought signatures, functionCall ids) into a reasoning item's
encrypted_content for clients that keep no server-side state; request.py and its input_*
helpers turn a CreateResponse body (plus stored history) into a GeminiRequest; output.py,
events.py and context.py turn Gemini's answers into Response objects and SSE events.
"""
