"""gemini-proxy: an OpenAI-compatible HTTP gateway to Google Gemini.

The app is built by gemini_proxy.app.create_app(); this package imports nothing itself, so that
its pure parts (translate/, config) load without Flask or the SDK.
"""
