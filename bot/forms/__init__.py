"""The form engine: a form is declared as data (`spec`), its steps run as one use case each
(`flow`), and one factory turns it into a persistent conversation (`conversation`)."""
