"""command's writes, one module per part."""
