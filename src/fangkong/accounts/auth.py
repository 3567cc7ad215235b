"""API authentication: the browser's session (with CSRF) or a bearer token."""

from ninja.security import SessionAuth

api_auth = [SessionAuth(csrf=True)]
