from piccolo.columns import ForeignKey, Serial, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.people.tables import Person


class Department(Table, tablename="department"):
    """A functional department (职能部门) that streets and higher levels dispatch cases to."""

    id: Serial  # the primary key Piccolo adds

    code = Varchar(length=32, unique=True)  # what a case's ``department`` column holds
    name = Varchar(length=32)  # 城管
    full_name = Varchar(length=128)  # 城市管理综合行政执法局


class DepartmentMember(Table, tablename="department_member"):
    """The department a person with the role ``department`` works for; the person's area, if
    any, limits them to the cases owned inside it (a district's 城管 bureau)."""

    id: Serial  # the primary key Piccolo adds

    person = ForeignKey(Person, null=False, unique=True, on_delete=OnDelete.cascade)
    department = ForeignKey(Department, null=False, on_delete=OnDelete.restrict, index=True)
