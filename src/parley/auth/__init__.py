"""Who is asking: tokens, passwords, scopes, principals and web login sessions."""
