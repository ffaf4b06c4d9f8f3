"""Where recording audio lives: a blob store behind one small interface."""
