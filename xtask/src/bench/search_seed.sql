-- `cargo xtask bench search`'s patients: $1 rows. First and last names
-- from the lists below by two strides, birth dates over 90 years, home
-- phones for two in three and mobiles for one in two, in E.164, distinct
-- by area code; one patient in 500 removed.
INSERT INTO patients (id, chart_id, first_name, last_name, date_of_birth, phone_home_e164, phone_mobile_e164,
                      raw, synced_by, removed_at)
SELECT i, 'BENCH' || lpad(i::text, 6, '0'),
       f.names[1 + i % array_length(f.names, 1)],
       l.names[1 + (i / array_length(f.names, 1) + i * 7) % array_length(l.names, 1)],
       date '1935-01-01' + ((i * 7919) % 32870)::integer,
       CASE WHEN i % 3 <> 0 THEN '+1' || a.codes[1 + (i / 10000) % 10] || '555' || lpad((i % 10000)::text, 4, '0') END,
       CASE WHEN i % 2 = 0 THEN '+1' || a.codes[1 + (i / 10000 + 5) % 10] || '556' || lpad((i % 10000)::text, 4, '0') END,
       '{}'::jsonb, 'bench', CASE WHEN i % 500 = 0 THEN now() END
FROM generate_series(1, $1::bigint) AS i,
     (SELECT ARRAY['José', 'María', 'Zoë', 'Renée', 'Björn', 'Chloé', 'François', 'Søren', 'Ana', 'Luis', 'John',
                   'Jon', 'Mary', 'James', 'Robert', 'Patricia', 'Jennifer', 'Michael', 'Linda', 'William',
                   'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah',
                   'Charles', 'Karen', 'Mark', 'Martha', 'Daniel', 'Nancy', 'Matthew', 'Lisa', 'Anthony', 'Betty',
                   'Ángel', 'Inés', 'Raúl', 'Noémie', 'Jürgen', 'Agnès', 'Dmitri', 'Aiyana', 'Thành', 'Priya', 'Wei',
                   'Hiroshi', 'Fatima', 'Omar', 'Chidi', 'Camille', 'Léa', 'Hélène', 'Zoé', 'Emily', 'Olivia',
                   'Sofía', 'Valentina', 'Mateo', 'Santiago', 'Ethan', 'Noah', 'Liam', 'Ava', 'Isabella', 'Mia',
                   'Lucas', 'Gabriel', 'Rafael', 'Adrián', 'Lucía', 'Paula', 'Andrés', 'Tomás', 'Ingrid', 'Astrid']
             AS names) AS f,
     (SELECT ARRAY['García', 'Martínez', 'Rodríguez', 'López', 'González', 'Pérez', 'Sánchez', 'Ramírez', 'Núñez',
                   'Muñoz', 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson',
                   'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark',
                   'Lewis', 'Müller', 'Schröder', 'Østergaard', 'Lefèvre', 'Côté', 'Gauthier', 'Dubois', 'Bélanger',
                   'O''Brien', 'Kowalski', 'Nowak', 'Novák', 'Horváth', 'Yılmaz', 'Nakamura', 'Tanaka', 'Kim', 'Park',
                   'Chen', 'Wang', 'Patel', 'Okafor', 'Mensah', 'Haddad', 'Ivanov', 'Rossi', 'Bianchi', 'Silva',
                   'Santos', 'Fernández', 'Nguyễn', 'Trần', 'Phạm', 'Hernández', 'Jiménez', 'Díaz', 'Álvarez',
                   'Romero', 'Gutiérrez', 'Ortiz', 'Castillo', 'Vásquez', 'Ruiz', 'Torres', 'Flores', 'Rivera',
                   'Gómez', 'Reyes', 'Cruz', 'Morales', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott',
                   'Green', 'Baker', 'Adams', 'Nelson', 'Hill', 'Campbell', 'Mitchell', 'Roberts', 'Carter',
                   'Phillips', 'Evans', 'Turner', 'Parker', 'Collins']
             AS names) AS l,
     (SELECT ARRAY['217', '312', '415', '512', '617', '718', '805', '907', '971', '202'] AS codes) AS a
