"""The Hoox API: the client (over an injected httpx.Client) and the project's fake."""
