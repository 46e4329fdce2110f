"""How the terminal talks to the operating system's service manager: systemd notifications and the journal."""
