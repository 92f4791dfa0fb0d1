"""How things read in Persian, shared by the two edges of the bot: the chat (bot/handlers) and the
staff dashboard on the web (bot/web). Words for statuses and fields, the texts of notices to other
people, spreadsheet files. Below both edges, above the services; never imports either edge."""
