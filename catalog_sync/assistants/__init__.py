"""For AI assistants: the price history as a Model Context Protocol server
(`catalog-sync mcp`, extra [mcp]). `answers` asks the analysts' code each
tool's question; `server` declares the tools and serves them over stdio."""
