"""Worlds: the scenes several test modules share, built with the kit's builders (and so
through the services). Each module names its scene in its docstring."""
