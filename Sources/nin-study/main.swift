NINStudyCommand.main()
