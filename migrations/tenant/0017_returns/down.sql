DROP TRIGGER return_documents_immutable ON return_documents;
DROP FUNCTION return_documents_immutable();
DROP TABLE return_documents;
DROP TABLE return_messages;
DROP TABLE return_photos;
DROP TABLE return_lines;
DROP TABLE returns;
DROP SEQUENCE return_number_seq;
