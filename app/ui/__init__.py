"""The touchscreen: a Kivy app over the same services as `pos`. Screens talk only to `KioskApp`, which runs the
engine on a worker thread and pushes its answers back to the UI through Kivy's Clock."""
