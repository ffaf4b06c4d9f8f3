from stress.command import main

main()
