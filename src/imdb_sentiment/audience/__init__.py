"""What reviews say about a film's parts (aspects) and about the audience's experience of it."""
