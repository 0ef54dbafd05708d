"""Service points on the map: party-mass service centres, 司机之家, 暖心驿站, 红色物业."""
