"""Pure functions between OpenAI's and Gemini's shapes: no Flask, no Settings, no SDK, no
network, clock or uuid. Plain values come in: the model id the caller resolved, the request's
media as bytes (media/), thought signatures looked up, ids and timestamps, and RequestDefaults.

OpenAI-side dicts keep OpenAI's field names; Gemini-side dicts keep the google-genai SDK's
snake_case names (what upstream.client.dump() produces and what the SDK accepts).
"""
