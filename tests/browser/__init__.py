"""Browser tests: a real server and worker (``devstack``), Debian's Chromium driven by Playwright."""
