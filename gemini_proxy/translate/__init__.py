"""Pure functions between OpenAI's and Gemini's shapes: no Flask, no network, no clock.

OpenAI-side dicts keep OpenAI's field names; Gemini-side dicts keep the google-genai SDK's
snake_case names (what upstream.dump() produces and what the SDK accepts).
"""
