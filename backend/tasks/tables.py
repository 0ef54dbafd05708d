from piccolo.columns import UUID, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Broadcast(Table, tablename="broadcast"):
    """A task sent to every grid or every building of an area."""

    id: Serial  # the primary key Piccolo adds

    # The sender's own id: sending the same broadcast twice makes one.
    client_id = UUID(unique=True)
    area_code = Varchar(length=16, index=True)
    target = Varchar(length=16)  # "grid" or "building"
    title = Varchar(length=128)
    description = Text(default="")
    due_at = Timestamptz(null=True, default=None)
    created_by = Integer()
    created_at = Timestamptz()
    # "area_code title" while an item is open, NULL once all are done: unique, so the same task
    # sent again to the same area (under another client id) finds the first one.
    open_key = Varchar(length=160, null=True, default=None, unique=True)


class TaskItem(Table, tablename="task_item"):
    """One grid's or one building's share of a broadcast, done by the grid's people.

    The migration adds a unique index on (broadcast, grid_code, building_id), NULL counted as
    a value, so no target gets two items.
    """

    id: Serial  # the primary key Piccolo adds

    broadcast = ForeignKey(Broadcast, null=False, on_delete=OnDelete.cascade, index=True)
    grid_code = Varchar(length=16, index=True)
    # Not a foreign key: a re-import may replace buildings, the task's record stays.
    building_id = Integer(null=True, default=None)
    status = Varchar(length=16, default="open")  # "open" or "done"
    result = Text(default="")
    households = Integer(null=True, default=None)  # households reached
    photo_id = Integer(null=True, default=None)
    done_by = Integer(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    # The phone's own id of its "done" write: a retry after a lost answer changes nothing.
    client_id = UUID(null=True, default=None, unique=True)


class TaskPhoto(Table, tablename="task_photo"):
    id: Serial  # the primary key Piccolo adds
    client_id = UUID(unique=True)
    item = ForeignKey(TaskItem, null=False, on_delete=OnDelete.cascade, index=True)
    # Random hex names of the files under data/photos, as for case photos.
    file_id = Varchar(length=32, unique=True)
    thumb_id = Varchar(length=32, unique=True)
    content_type = Varchar(length=16)
    width = Integer()
    height = Integer()
    bytes = Integer()
    uploaded_by = Integer()
    created_at = Timestamptz()
