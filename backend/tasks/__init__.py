"""Broadcast tasks (任务): one item for every grid or every building of an area, done by the
grid's own people, with completion by grid and building."""
