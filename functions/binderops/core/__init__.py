"""Small shared pieces every capability uses: settings, errors, logs, files, clocks, locks, payloads."""
