"""Assessment (考核, 赛马比拼): indicators per worker, grid, community, street and district for a
month, quarter or year, computed by SQL aggregation; weighted scores, rankings and exports."""
