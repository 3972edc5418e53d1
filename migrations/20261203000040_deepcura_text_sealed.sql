-- Decrypted Deep Cura text is sealed at rest: the SOAP sections and the
-- transcript live only in `raw_sealed` (AES-GCM under TOKEN_ENCRYPTION_KEY),
-- and reading them is an explicit unseal. The plain copies go.
UPDATE deepcura_notes
   SET soap_subjective = NULL, soap_objective = NULL, soap_assessment = NULL, soap_plan = NULL, transcript = NULL
 WHERE soap_subjective IS NOT NULL OR soap_objective IS NOT NULL OR soap_assessment IS NOT NULL
    OR soap_plan IS NOT NULL OR transcript IS NOT NULL;
COMMENT ON COLUMN deepcura_notes.transcript IS 'Always NULL: the text is in raw_sealed (open_text unseals it).';
