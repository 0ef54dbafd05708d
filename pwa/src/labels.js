// Chinese names for the API's codes. The order of POSTS is the order 一格一长一警一专多兼
// is read in, plus the party branch built on the grid.
export const POSTS = [
  ["leader", "网格长"],
  ["police", "网格警"],
  ["fulltime", "专职网格员"],
  ["parttime", "兼职网格员"],
  ["party_secretary", "党支部书记"],
  ["property_party_secretary", "物业党支部书记"],
];

export const POST_LABEL = Object.fromEntries(POSTS);

export const GRID_KIND_LABEL = {
  community: "社区网格",
  village: "农村网格",
  dedicated: "专属网格",
};

export const POINT_KIND_LABEL = {
  party_centre: "党群服务中心",
  driver_home: "司机之家",
  warm_station: "暖心驿站",
  red_property: "红色物业",
};

// Area codes follow the statistical division code: within a district, street-level codes
// 001–099 are 街道 and 100–199 镇; within those, 001–199 are 社区 and 200–399 村.
export function areaLevelLabel({ level, code }) {
  const part = (from, to) => Number(String(code).slice(from, to));
  switch (level) {
    case "city":
      return "市";
    case "district":
      return "区";
    case "street":
      return part(6, 9) >= 100 ? "镇" : "街道";
    case "community":
      return part(9, 12) >= 200 ? "村" : "社区";
    default:
      return level;
  }
}
