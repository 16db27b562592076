"""The coalition bot core. It knows no platform: adapters translate platform events into core commands."""
