"""Test support shared by every app's tests (a pytest plugin loaded by the root conftest)."""
