"""Party members on call (在职党员"双报到"), community needs and service hours, and the grades
the city reads people and party branches by (社区工作者"三岗十八级", 比武争星)."""
