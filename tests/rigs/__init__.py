"""Test rigs for real external stacks (pcscd + vpcd, ...): import a rig's fixtures into the test module."""
