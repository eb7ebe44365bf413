-- The stored probes of the round @minute, if it was done already (a redelivered tick).
SELECT * FROM {{ raw }}.member_probes WHERE minute = @minute
