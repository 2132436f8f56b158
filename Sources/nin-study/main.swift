print("nin-study")
