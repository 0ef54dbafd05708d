"""The roles of design.md, with the scope each one works in."""

from enum import StrEnum


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"  # 专职/兼职网格员
    grid_leader = "grid_leader"  # 网格长
    grid_police = "grid_police"  # 网格警
    community_staff = "community_staff"  # 社区党群服务中心
    street_staff = "street_staff"  # 街道
    district_admin = "district_admin"
    city_admin = "city_admin"
    department = "department"  # 职能部门 (城管, 住建 …): which one is backend/cases' to say


ROLE_LABELS: dict[str, str] = {
    "resident": "居民",
    "grid_worker": "网格员",
    "grid_leader": "网格长",
    "grid_police": "网格警",
    "community_staff": "社区工作人员",
    "street_staff": "街道工作人员",
    "district_admin": "区管理员",
    "city_admin": "市管理员",
    "department": "职能部门工作人员",
}
