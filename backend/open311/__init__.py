"""Open311 GeoReport v2: the city's public cases for other city systems, and the requests they
hand in with an api_key (mapping.py and formats.py are the pure translation into XML and JSON,
keys.py the keys, service.py the queries, routes.py the endpoints, cli.py ``wangge
open311-key``)."""
