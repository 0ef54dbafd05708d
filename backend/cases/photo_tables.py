from piccolo.columns import UUID, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.cases.tables import Case
from backend.people.tables import Person


class CasePhoto(Table, tablename="case_photo"):
    id: Serial  # the primary key Piccolo adds
    # The phone's own id for the upload: sending the same photo twice stores it once.
    client_id = UUID(unique=True)
    case_id = ForeignKey(Case, null=False, on_delete=OnDelete.cascade, index=True)
    # Random hex names of the files under data/photos: never the name the client sent.
    file_id = Varchar(length=32, unique=True)
    thumb_id = Varchar(length=32, unique=True)
    content_type = Varchar(length=16)  # of the stored file; the thumbnail is always JPEG
    width = Integer()
    height = Integer()
    bytes = Integer()
    uploaded_by = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
