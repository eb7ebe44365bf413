-- The federation register, as the cost export last recorded it: each member's name by origin.
SELECT origin, name FROM {{ public }}.federation_members ORDER BY name
